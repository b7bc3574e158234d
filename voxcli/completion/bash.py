"""Render a :class:`CommandSpec` as a bash completion script (bash >= 3.2, no bash-completion
package needed)."""

from __future__ import annotations

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

_VALUE_KINDS = {
    ValueKind.NONE: "none",
    ValueKind.CHOICE: "choice",
    ValueKind.MODEL: "choice",  # "model-KIND" when the option names its kind
    ValueKind.AUDIO: "audio",
    ValueKind.DIR: "dir",
    ValueKind.FILE: "file",
    ValueKind.TEXT: "text",
}


def render(root: CommandSpec) -> str:
    commands = root.walk()
    parts = [
        f"# bash completion for {root.name}" + " " * 20 + "-*- shell-script -*-",
        f"# {HEADER}",
        "",
        _subcommands(commands),
        _options(commands),
        _option_kind(commands),
        _argument_kind(commands),
        _MAIN.replace("@AUDIO@", _audio_pattern())
        .replace("@NAMES@", NAMES_FILE.format(kind="$2"))
        .replace("@SAFE@", SAFE_CHARS)
        .replace("@NAME@", root.name),
    ]
    return "\n".join(parts)


def _case(name: str, doc: str, arms: list[tuple[list[str], str]], default: str) -> str:
    lines = [f"# {doc}", f"{name}() {{", "    case $1 in"]
    for patterns, body in arms:
        lines.append(f"        {'|'.join(patterns)}) {body} ;;")
    lines += [f"        *) {default} ;;", "    esac", "}", ""]
    return "\n".join(lines)


def _subcommands(commands: list[CommandSpec]) -> str:
    arms = [
        (
            [single_quote(path_key(c.path))],
            "choices=" + single_quote(" ".join(safe_word(s.name) for s in c.subcommands)),
        )
        for c in commands
        if c.is_group
    ]
    return _case(
        "__voxcli_subcommands",
        "Subcommands of the command path $1, in $choices; fails for a command that has none.",
        arms,
        "return 1",
    )


def _options(commands: list[CommandSpec]) -> str:
    arms = []
    for c in commands:
        names = [safe_word(n) for o in c.options for n in o.names]
        arms.append(([single_quote(path_key(c.path))], "choices=" + single_quote(" ".join(names))))
    return _case(
        "__voxcli_options", "Every option of the command path $1, in $choices.", arms, "choices=''"
    )


def _option_kind(commands: list[CommandSpec]) -> str:
    arms = []
    for c in commands:
        for option in c.options:
            patterns = [single_quote(f"{path_key(c.path)}|{safe_word(n)}") for n in option.names]
            choices = " ".join(safe_word(w) for w in option.choices)
            arms.append(
                (patterns, f"kind={_option_kind_word(option)} choices={single_quote(choices)}")
            )
    return _case(
        "__voxcli_option",
        'What the value of an option completes to ("PATH|OPTION" in $1), in $kind and $choices;\n'
        "# fails for an unknown option.",
        arms,
        "return 1",
    )


def _option_kind_word(option: OptionSpec) -> str:
    if option.kind is ValueKind.MODEL and option.model_kind:
        return f"model-{safe_word(option.model_kind)}"
    return _VALUE_KINDS[option.kind]


def _argument_kind(commands: list[CommandSpec]) -> str:
    arms = []
    for c in commands:
        for index, argument in enumerate(c.arguments):
            key = path_key(c.path)
            pattern = single_quote(f"{key}|") + ("*" if argument.variadic else str(index))
            choices = " ".join(safe_word(w) for w in argument.choices)
            arms.append(
                ([pattern], f"kind={_VALUE_KINDS[argument.kind]} choices={single_quote(choices)}")
            )
            if argument.variadic:
                break  # it takes every word from here on
    return _case(
        "__voxcli_argument",
        'What positional word number N (from 0) of command path P completes to ("P|N" in $1),\n'
        "# in $kind and $choices; fails when the command takes no such word.",
        arms,
        "return 1",
    )


def _audio_pattern() -> str:
    """An extglob that matches the audio extensions in any letter case: ``[wW][aA][vV]|...``."""

    def any_case(suffix: str) -> str:
        return "".join(f"[{ch.lower()}{ch.upper()}]" if ch.isalpha() else ch for ch in suffix)

    return "|".join(any_case(s) for s in audio_suffixes())


_MAIN = r"""# Run "$@" (compgen or a helper); add each line it prints to COMPREPLY, after $prefix.
__voxcli_reply() {
    local line
    while IFS= read -r line; do
        COMPREPLY+=("$prefix$line")
    done < <("$@")
}

# Audio files (by extension, any case) and directories to descend into, starting with $1.
__voxcli_audio_files() {
    local file
    shopt -s extglob  # runs in a subshell (see __voxcli_reply): the caller's options are safe
    compgen -d -- "$1"
    compgen -f -X '!*.@(@AUDIO@)' -- "$1" | while IFS= read -r file; do
        [[ -d $file ]] || printf '%s\n' "$file"
    done
}

# Model names starting with $1: those in $choices, then those the models cache lists
# for kind $2 (one a line; a name with other characters than @SAFE@ is skipped:
# compgen -W would expand it). No file, no names, no message.
__voxcli_model_names() {
    local name seen=" $choices " file=${XDG_CACHE_HOME:-$HOME/.cache}/@NAMES@
    compgen -W "$choices" -- "$1"
    [[ -f $file && -r $file ]] || return 0
    while IFS= read -r name || [[ -n $name ]]; do
        [[ -n $name && $name != *[!@SAFE@]* && $seen != *" $name "* ]] || continue
        seen+="$name "
        [[ $name == "$1"* ]] && printf '%s\n' "$name"
    done 2>/dev/null <"$file"
    return 0
}

# Complete the value $1 (a $kind with $choices), each reply prefixed with $prefix.
__voxcli_value() {
    case $kind in
        choice) __voxcli_reply compgen -W "$choices" -- "$1" ;;
        model-*) __voxcli_reply __voxcli_model_names "$1" "${kind#model-}" ;;
        audio) __voxcli_reply __voxcli_audio_files "$1" ;;
        dir) __voxcli_reply compgen -d -- "$1" ;;
        file) __voxcli_reply compgen -f -- "$1" ;;
    esac
}

# True when a cluster of short options ($2 in command path $1, like -vf) ends with one
# that waits for its value in the next word; sets $opt to that option.
__voxcli_cluster_wants_value() {
    local i last=$((${#2} - 1))
    for ((i = 1; i <= last; i++)); do
        __voxcli_option "$1|-${2:i:1}" || return 1
        if [[ $kind != none ]]; then
            opt=-${2:i:1}
            ((i == last))  # else the rest of the word is the value
            return
        fi
    done
    return 1
}

_voxcli() {
    local kind='' choices='' prefix='' path='' word opt=
    local i n skip=0 npos=0 dashdash=0
    local -a words=()
    COMPREPLY=()

    # Bash splits "--opt=value" into "--opt" "=" "value" (COMP_WORDBREAKS): join them again.
    for ((i = 0; i <= COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        n=${#words[@]}
        if ((n > 1)) && [[ $word == '=' && ${words[n-1]} == --* && ${words[n-1]} != *=* ]]; then
            words[n-1]=${words[n-1]}=
        elif ((n > 1)) && [[ ${COMP_WORDS[i-1]} == '=' && ${words[n-1]} == --*= ]]; then
            words[n-1]=${words[n-1]}$word
        else
            words[n]=$word
        fi
    done
    n=$((${#words[@]} - 1))
    local cur=${words[n]}

    # Walk the words before the cursor: subcommands, options (and their values), positionals.
    for ((i = 1; i < n; i++)); do
        word=${words[i]}
        if ((skip)); then
            skip=0
        elif ((!dashdash)) && [[ $word == -- ]]; then
            dashdash=1
        elif ((!dashdash)) && [[ $word == -?* ]]; then
            if [[ $word == --* || ${#word} -eq 2 ]]; then
                opt=$word
                if [[ $word != *=* ]] && __voxcli_option "$path|$word" && [[ $kind != none ]]; then
                    skip=1
                fi
            elif __voxcli_cluster_wants_value "$path" "$word"; then
                skip=1
            fi
        elif ((npos == 0)) && __voxcli_subcommands "$path" \
            && [[ " $choices " == *" $word "* ]]; then
            path=${path:+$path }$word
        else
            npos=$((npos + 1))
        fi
    done

    if ((skip)); then  # the word under the cursor is the value of the option before it
        __voxcli_option "$path|$opt"
        __voxcli_value "$cur"
    elif ((!dashdash)) && [[ $cur == --*=* ]]; then
        opt=${cur%%=*}
        if __voxcli_option "$path|$opt" && [[ $kind != none ]]; then
            # Bash replaces only the text after '=' when '=' is in COMP_WORDBREAKS.
            [[ ${COMP_WORDS[COMP_CWORD]} == "$cur" ]] && prefix=$opt=
            __voxcli_value "${cur#*=}"
        fi
    elif ((!dashdash)) && [[ $cur == -* ]]; then
        __voxcli_options "$path"
        __voxcli_reply compgen -W "$choices" -- "$cur"
    elif ((npos == 0)) && __voxcli_subcommands "$path"; then
        __voxcli_reply compgen -W "$choices" -- "$cur"
    elif __voxcli_argument "$path|$npos"; then
        __voxcli_value "$cur"
    fi
    return 0
}

complete -o filenames -F _voxcli @NAME@
"""
