"""Render a :class:`CommandSpec` as a fish completion script (``complete -c voxcli ...``)."""

from __future__ import annotations

from voxcli.catalog.kinds import Kind
from voxcli.completion.spec import CommandSpec, OptionSpec, ValueKind
from voxcli.completion.words import (
    HEADER,
    NAMES_FILE,
    SAFE_CHARS,
    audio_suffixes,
    path_key,
    safe_word,
    single_quote,
)


def render(root: CommandSpec) -> str:
    name = root.name
    commands = root.walk()
    lines = [f"# fish completion for {name}", f"# {HEADER}", ""]
    lines += _state_function(name, commands)
    lines += (
        _HELPERS.replace("@AUDIO@", "|".join(audio_suffixes()))
        .replace("@NAMES@", NAMES_FILE.format(kind="$argv[1]"))
        .replace("@SAFE@", SAFE_CHARS)
        .splitlines()
    )
    lines += [
        "",
        "# Nothing but what is listed below: no file names unless a value is a path.",
        f"complete -c {name} -f",
    ]
    for command in commands:
        lines += ["", f"# {name} {path_key(command.path)}".rstrip()]
        using = "__voxcli_using" + "".join(f" {safe_word(w)}" for w in command.path)
        for sub in command.subcommands:
            lines.append(
                f"complete -c {name} -n {single_quote(using)} -a {safe_word(sub.name)}"
                f" -d {single_quote(sub.help)}"
            )
        for option in command.options:
            lines.append(f"complete -c {name} -n {single_quote(using)}" + _option(option))
        for index, argument in enumerate(command.arguments):
            where = f"{index}+" if argument.variadic else str(index)
            condition = "__voxcli_argument " + single_quote(path_key(command.path)) + f" {where}"
            lines.append(
                f"complete -c {name} -n {single_quote(condition)}"
                + _value(argument.kind, argument.choices)
                + f" -d {single_quote(argument.name)}"
            )
            if argument.variadic:
                break
    return "\n".join(lines) + "\n"


def _option(option: OptionSpec) -> str:
    flags = ""
    for option_name in option.names:
        option_name = safe_word(option_name)
        if option_name.startswith("--"):
            flags += f" -l {option_name[2:]}"
        elif len(option_name) == 2:
            flags += f" -s {option_name[1:]}"
        else:
            flags += f" -o {option_name[1:]}"
    if option.takes_value:
        flags += " -r" + _value(option.kind, option.choices, option.model_kind)
    if option.help:
        flags += f" -d {single_quote(option.help)}"
    return flags


def _value(kind: ValueKind, choices: tuple[str, ...], model_kind: Kind | None = None) -> str:
    words = " ".join(safe_word(c) for c in choices)
    if kind is ValueKind.MODEL and model_kind:
        call = f"__voxcli_model_names {safe_word(model_kind)} {words}".rstrip()
        return " -f -a " + single_quote(f"({call})")
    if kind in (ValueKind.CHOICE, ValueKind.MODEL):
        return " -f -a " + single_quote(words)
    if kind is ValueKind.AUDIO:
        return " -f -a '(__voxcli_audio_files)'"
    if kind is ValueKind.DIR:
        return " -f -a '(__fish_complete_directories (__voxcli_token) Directory)'"
    if kind is ValueKind.FILE:
        return " -F"
    return " -f"


def _state_function(name: str, commands: list[CommandSpec]) -> list[str]:
    """``__voxcli_state``: the subcommand path and the count of positional words so far."""
    value_cases = [
        single_quote(f"{path_key(c.path)}|{safe_word(n)}")
        for c in commands
        for o in c.options
        if o.takes_value
        for n in o.names
    ]
    command_cases = [
        single_quote(f"{path_key(c.path)}|{safe_word(s.name)}")
        for c in commands
        for s in c.subcommands
    ]
    lines = [
        f"# Print the {name} subcommand path on the command line ('' for {name} itself),",
        "# then how many positional words follow it, each on a line.",
        "function __voxcli_state",
        "    set -l tokens (commandline -opc)",
        "    set -l path ''",
        "    set -l npos 0",
        "    set -l skip 0",
        "    set -l dashdash 0",
        "    for token in $tokens[2..-1]",
        "        if test $skip = 1",
        "            set skip 0",
        "            continue",
        "        end",
        "        if test $dashdash = 1",
        "            set npos (math $npos + 1)",
        "            continue",
        "        end",
        '        switch "$path|$token"',
        "            case '*|--'",
        "                set dashdash 1",
    ]
    if value_cases:
        lines += [f"            case {' '.join(value_cases)}", "                set skip 1"]
    lines += ["            case '*|-?*'", "                # a flag, or --option=value"]
    if command_cases:
        lines += [
            f"            case {' '.join(command_cases)}",
            "                if test $npos = 0",
            '                    set path (string trim -- "$path $token")',
            "                else",
            "                    set npos (math $npos + 1)",
            "                end",
        ]
    lines += [
        "            case '*'",
        "                set npos (math $npos + 1)",
        "        end",
        "    end",
        "    printf '%s\\n' $path $npos",
        "end",
        "",
    ]
    return lines


_HELPERS = r"""# True when the subcommand path is exactly the words given ('' for voxcli itself).
function __voxcli_using
    set -l state (__voxcli_state)
    set -l want (string join ' ' -- $argv)
    test "$state[1]" = "$want"
end

# True when the path is $argv[1] and the word under the cursor is positional number $argv[2]
# (from 0; "N+" means N or later).
function __voxcli_argument
    set -l state (__voxcli_state)
    test "$state[1]" = "$argv[1]"; or return 1
    set -l at (string replace '+' '' -- $argv[2])
    if string match -q '*+' -- $argv[2]
        test $state[2] -ge $at
    else
        test $state[2] -eq $at
    end
end

# The current word, or the value part of an --option=value word.
function __voxcli_token
    set -l token (commandline -ct)
    string replace -r -- '^--[^=]*=' '' "$token"
    return 0
end

# Model names of kind $argv[1]: the known ones (the other arguments), then those the models
# cache lists, one a line (a name with other characters than @SAFE@ is skipped).
# No file, no names, no message.
function __voxcli_model_names
    set -l models $argv[2..-1]
    set -l cache "$XDG_CACHE_HOME"
    test -n "$cache"; or set cache "$HOME/.cache"
    set -l file "$cache/@NAMES@"
    if test -f "$file" -a -r "$file"
        for name in (string match -r -- '^[@SAFE@]+$' <"$file" 2>/dev/null)
            contains -- $name $models; or set -a models $name
        end
    end
    printf '%s\n' $models
end

# Audio files (by extension, any case) and directories to descend into.
function __voxcli_audio_files
    set -l paths (complete -C "'' "(__voxcli_token) | string replace -r '\t.*' '')
    string match -r -- '.*/$' $paths
    string match -ir -- '.*\.(?:@AUDIO@)$' $paths
    return 0
end"""
