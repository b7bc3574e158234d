"""Render a :class:`CommandSpec` as a zsh completion function (``_voxcli``, for ``$fpath``)."""

from __future__ import annotations

import re

from voxcli.catalog.kinds import Kind
from voxcli.completion.spec import ArgumentSpec, CommandSpec, OptionSpec, ValueKind
from voxcli.completion.words import (
    HEADER,
    NAMES_FILE,
    SAFE_CHARS,
    audio_suffixes,
    safe_word,
    single_quote,
)

AUDIO_FUNCTION = "_voxcli_audio_files"
MODELS_FUNCTION = "__voxcli_model_names"


def render(root: CommandSpec) -> str:
    name = root.name
    parts = [
        f"#compdef {name}",
        f"# {HEADER}",
        "",
        "# Audio files (by extension, any case) and directories to descend into.",
        f"{AUDIO_FUNCTION}() {{",
        f"    _files -g {single_quote(_audio_glob())}",
        "}",
        "",
        *_MODELS.replace("@FUNCTION@", MODELS_FUNCTION)
        .replace("@NAMES@", NAMES_FILE.format(kind="$1"))
        .replace("@SAFE@", SAFE_CHARS)
        .splitlines(),
        "",
    ]
    parts += [_function(root.name, command) for command in root.walk()]
    parts += [
        "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
        f'    _{name} "$@"',
        "else",
        f"    compdef _{name} {name}",
        "fi",
        "",
    ]
    return "\n".join(parts)


def function_name(prog: str, path: tuple[str, ...]) -> str:
    return "_" + "_".join(re.sub(r"[^A-Za-z0-9]", "_", word) for word in (prog, *path))


def _function(prog: str, command: CommandSpec) -> str:
    specs = [spec for option in command.options for spec in _option_specs(option)]
    if command.is_group:
        specs += ["': :->command'", "'*:: :->argument'"]
    else:
        specs += _argument_specs(command.arguments)
    lines = [f"{function_name(prog, command.path)}() {{"]
    if command.is_group:
        lines += [
            "    local curcontext=$curcontext state state_descr line ret=1",
            "    typeset -A opt_args",
        ]
    lines.append("    _arguments -C -s -S \\" if command.is_group else "    _arguments -s -S \\")
    for spec in specs:
        lines.append(f"        {spec} \\")
    if command.is_group:
        lines[-1] = lines[-1][: -len(" \\")] + " && ret=0"
        lines += _dispatch(prog, command)
    else:
        lines[-1] = lines[-1][: -len(" \\")]
    lines += ["}", ""]
    return "\n".join(lines)


def _dispatch(prog: str, command: CommandSpec) -> list[str]:
    described = [
        single_quote(safe_word(sub.name).replace(":", r"\:") + ":" + sub.help)
        for sub in command.subcommands
    ]
    context = "-".join((prog, *command.path))
    lines = [
        "    case $state in",
        "        command)",
        "            local -a commands=(",
        *(f"                {entry}" for entry in described),
        "            )",
        f"            _describe -t commands {single_quote(context + ' command')} commands && ret=0",
        "            ;;",
        "        argument)",
        f"            curcontext=${{curcontext%:*:*}}:{context}-$words[1]:",
        "            case $words[1] in",
    ]
    for sub in command.subcommands:
        lines.append(
            f"                {safe_word(sub.name)}) {function_name(prog, sub.path)} && ret=0 ;;"
        )
    lines += [
        f"                *) _message {single_quote('unknown ' + context + ' command')} ;;",
        "            esac",
        "            ;;",
        "    esac",
        "    return ret",
    ]
    return lines


def _option_specs(option: OptionSpec) -> list[str]:
    names = [safe_word(n) for n in option.names]
    if option.takes_value:
        names = [n + ("=" if n.startswith("--") else "+") for n in names]
    value = _value(option.metavar.lower(), option.kind, option.choices, option.model_kind)
    tail = f"[{_escape(option.help)}]{value}"
    if len(names) == 1:
        return [single_quote(("*" if option.repeatable else "") + names[0] + tail)]
    if option.repeatable:
        prefix = "'*'"
    elif len(option.names) > 1:
        prefix = single_quote("(" + " ".join(option.names) + ")")
    else:
        prefix = ""
    return [prefix + "{" + ",".join(names) + "}" + single_quote(tail)]


def _argument_specs(arguments: tuple[ArgumentSpec, ...]) -> list[str]:
    specs = []
    for index, argument in enumerate(arguments, start=1):
        message = argument.name.lower()
        if argument.variadic:
            specs.append(single_quote("*" + _value(message, argument.kind, argument.choices)))
            break
        optional = "" if argument.required else ":"
        specs.append(
            single_quote(f"{index}{optional}" + _value(message, argument.kind, argument.choices))
        )
    return specs


def _value(
    message: str, kind: ValueKind, choices: tuple[str, ...], model_kind: Kind | None = None
) -> str:
    """The ``:message:action`` part of a spec ('' for a flag)."""
    if kind is ValueKind.NONE:
        return ""
    words = " ".join(safe_word(c) for c in choices)
    if kind is ValueKind.MODEL and model_kind:
        # In braces: _arguments evaluates it with $expl set, adding no arguments of its own.
        call = f"{MODELS_FUNCTION} {safe_word(model_kind)} {words}".rstrip()
        return f":{_escape(message)}:{{{call}}}"
    actions = {
        ValueKind.CHOICE: f"({words})",
        ValueKind.MODEL: f"({words})",
        ValueKind.AUDIO: AUDIO_FUNCTION,
        ValueKind.DIR: "_files -/",
        ValueKind.FILE: "_files",
        ValueKind.TEXT: " ",
    }
    return f":{_escape(message)}:{actions[kind]}"


_MODELS = r"""# Model names of kind $1: the known ones (the other arguments), then those the models
# cache lists, one a line (a name with other characters than @SAFE@ is skipped).
# No file, no names, no message. Called by _arguments, which sets $expl.
@FUNCTION@() {
    local file=${XDG_CACHE_HOME:-$HOME/.cache}/@NAMES@
    local -aU models
    models=("${@[2,-1]}")
    if [[ -f $file && -r $file ]]; then
        models+=(${${(f)"$(<$file)"}:#*[^@SAFE@]*})
    fi 2>/dev/null
    compadd "${expl[@]}" -a models
}"""


def _escape(text: str) -> str:
    """Escape what _arguments treats specially in descriptions and messages."""
    return re.sub(r"([\\\[\]:$`])", r"\\\1", text)


def _audio_glob() -> str:
    return "*.(#i)(" + "|".join(audio_suffixes()) + ")(-.)"
