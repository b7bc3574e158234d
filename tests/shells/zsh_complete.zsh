# Print what zsh would offer when TAB is pressed at the end of a command line.
#
# usage: zsh -f zsh_complete.zsh FPATH_DIR OUT_FILE 'voxcli transcribe --form'
#
# Starts an interactive zsh on a pseudo-terminal (zsh/zpty), loads the completion
# system with FPATH_DIR first in $fpath, wraps compadd so that every match offered is
# appended to OUT_FILE, types the line and a TAB, and waits for the end marker that a
# completion post-function writes. Prints the matches, one a line.
zmodload zsh/zpty || { print -u2 'zsh/zpty is missing'; exit 3 }
fdir=$1 out=$2 line=$3
: >| $out

zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT=''"
zpty -w z "fpath=(${(q)fdir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "__out=${(q)out}"
zpty -w z 'compadd() {
  if [[ " $* " == *" -"[OAD]" "* ]]; then builtin compadd "$@"; return; fi
  local -a __hits; builtin compadd -O __hits "$@"
  (( $#__hits )) && print -rl -- $__hits >> $__out
  builtin compadd "$@"
}'
zpty -w z '__done() { print -r -- "<<END>>" >> $__out }; comppostfuncs=(__done)'
zpty -w z "zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' menu no; bindkey '^I' complete-word"
zpty -w z "print -r -- '<<READY>>' >> \$__out"
integer i
for (( i = 0; i < 100; i++ )); do
  [[ -s $out ]] && grep -q '<<READY>>' $out && break
  sleep 0.1
done
: >| $out
zpty -w -n z "$line"$'\t'
for (( i = 0; i < 100; i++ )); do
  grep -q '<<END>>' $out 2>/dev/null && break
  sleep 0.1
done
zpty -d z
grep -q '<<END>>' $out || { print -u2 'zsh did not finish completing'; exit 4 }
grep -v '^<<END>>$' $out
