# Bash completion (scripts/completion/shmstack.bash, or $SHMSTACK_COMPLETION
# for an installed copy), driven as bash drives it: COMP_WORDS/COMP_CWORD in,
# COMPREPLY out. Every command --help lists, and every option of each, must
# be offered; values, archives and installed stack names are completed.
source "$(dirname "$0")/lib.bash"
script=${SHMSTACK_COMPLETION:-$E2E_DIR/../../scripts/completion/shmstack.bash}
[[ -f $script ]] || fail "no completion script at $script"
source "$script"
complete -p shmstack | grep -q -- '-F _shmstack' || fail "the script does not register a completion for shmstack"

# complete WORD... : what bash would offer for the last WORD (may be '').
complete_line() {
  COMP_WORDS=("$S" "$@")
  COMP_CWORD=$(($# ))
  COMP_LINE="${COMP_WORDS[*]}"
  COMPREPLY=()
  _shmstack
  printf '%s\n' "${COMPREPLY[@]}" | sort
}
offers() {  # offers "WORDS..." EXPECTED...: each EXPECTED is among the completions
  local words=$1; shift
  local got; read -ra w <<<"$words"
  [[ $words == *" " || -z $words ]] && w+=("")
  got=$(complete_line "${w[@]}")
  for e in "$@"; do grep -qxF -- "$e" <<<"$got" || fail "'shmstack $words<TAB>' does not offer '$e' (got: $(echo $got))"; done
}

# The options a --help lists under "Options:".
options_of() { "$S" "$@" --help | sed -n '/^Options:/,$p' | grep -oE -- '--[a-z][a-z-]+' | sort -u; }

# Every command and every option of each, from --help.
commands=$("$S" --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1}')
offers "" $commands --help --version
offers "pa" pack
[[ $(complete_line pa) == pack ]] || fail "'pa<TAB>' offers more than pack"
for cmd in $commands; do
  [[ $cmd == slurm ]] && continue
  offers "$cmd --" $(options_of $cmd)
done
offers "slurm " task-prolog prolog epilog
for hook in task-prolog prolog epilog; do
  offers "slurm $hook --" $(options_of slurm $hook)
done

# Option values.
offers "env --shell " sh bash csh tcsh fish json
offers "bcast x.tar.lz4 --shell f" fish
offers "pack d --activate-as " prefix target plain

# Archives (not other files) and directories.
mkdir -p "$T/w/sub"
touch "$T/w/a.tar.lz4" "$T/w/b.tar.gz" "$T/w/notes.txt"
cd "$T/w"
offers "unpack " a.tar.lz4 b.tar.gz sub
complete_line unpack "" | grep -qx notes.txt && fail "unpack offers a file that is not an archive"
offers "pack " sub
complete_line pack "" | grep -qx a.tar.lz4 && fail "pack offers a file (it packs a directory)"
offers "bcast " a.tar.lz4 sub

# Installed stacks for env, exec and rm, from this node's stack root.
mkdir -p "$T/tree/lib" && echo x >"$T/tree/lib/f"
"$S" pack "$T/tree" -o "$T/w/mystack.tar.lz4" --name mystack -q
"$S" unpack -q "$T/w/mystack.tar.lz4" >/dev/null
id12=$("$S" list | awk '$1 == "mystack" {print $2}')
offers "env " mystack "mystack-$id12"
offers "rm my" mystack "mystack-$id12"
offers "exec mystack -- pyth" python3
echo "completion ok"
