# bash completion for shmstack(1). Installed as
# share/bash-completion/completions/shmstack (bash-completion loads it on
# first use); or source it from ~/.bashrc. Needs nothing but bash.
#
# Completes commands, each command's options (kept in step with --help by
# test/e2e/completion.sh), option values (shells, activation kinds, the
# stack root), archives and directories, and the names of the stacks
# installed on this node for env, exec, audit and rm.

_shmstack_options() {
  case $1 in
    pack) echo "-o --output --name -j --threads --level --exclude --old-prefix -f --force -q --quiet --strict --activate-as --path --pythonpath --ld-library-path --set" ;;
    unpack) echo "-j --threads -q --quiet --root --memory-margin" ;;
    info) echo "--json --root" ;;
    list) echo "--json --root" ;;
    rm) echo "-f --force --root" ;;
    exec) echo "--root" ;;
    gc) echo "--older-than -n --dry-run --root" ;;
    env) echo "--shell --root" ;;
    audit) echo "--forbid --json -o --output --top --root" ;;
    bcast | run) echo "-j --threads --print-env --shell --tree --fanout --two-tree --ibcast --chunk-size --ring --level --exclude --old-prefix --root --memory-margin" ;;
    "slurm task-prolog") echo "-j --threads --root --memory-margin --lock-wait" ;;
    "slurm prolog") echo "--stacks -j --threads --root --memory-margin --run-conda-unpack --lock-wait" ;;
    "slurm epilog") echo "--purge-user --root --lock-wait" ;;
  esac
  echo "-h --help -v --verbose"
}

# Installed stacks (NAME and NAME-ID12), under the --root the line gives.
_shmstack_installed() {
  local root=() i
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    [[ ${COMP_WORDS[i]} == --root ]] && root=(--root "${COMP_WORDS[i + 1]}")
  done
  "${COMP_WORDS[0]}" list "${root[@]}" 2>/dev/null | awk 'NR > 1 { print $1; print $1 "-" $2 }' | sort -u
}

_shmstack_files() {  # archives, and directories (to descend into; bcast packs them)
  local IFS=$'\n' f
  for f in $(compgen -f -- "$1"); do
    if [[ -d $f ]]; then
      COMPREPLY+=("$f")
    else
      case $f in *.tar.lz4 | *.tlz4 | *.tar.gz | *.tgz | *.tar.zst | *.tzst | *.tar | *.lz4) COMPREPLY+=("$f") ;; esac
    fi
  done
  compopt -o filenames 2>/dev/null
}

_shmstack() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local commands="pack unpack info list rm gc env exec audit bcast run slurm"
  local cmd="" i
  COMPREPLY=()

  # The command (and slurm's hook), and whether '--' ended the options.
  for ((i = 1; i < COMP_CWORD; i++)); do
    local w=${COMP_WORDS[i]}
    if [[ -z $cmd && $w != -* ]]; then
      cmd=$w
    elif [[ $cmd == slurm && $w != -* ]]; then
      cmd="slurm $w"
    elif [[ $w == -- && ( $cmd == exec || $cmd == run || $cmd == audit ) ]]; then
      # PROG [ARGS...]: a command, then files.
      if ((i == COMP_CWORD - 1)); then
        COMPREPLY=($(compgen -c -- "$cur"))
      else
        COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null
      fi
      return
    fi
  done

  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$commands -h --help --version" -- "$cur"))
    return
  fi
  if [[ $cmd == slurm ]]; then
    COMPREPLY=($(compgen -W "task-prolog prolog epilog -h --help" -- "$cur"))
    return
  fi

  case $prev in
    --root) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
    -o | --output | --stacks) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
    --shell) COMPREPLY=($(compgen -W "sh bash zsh csh tcsh fish json" -- "$cur")); return ;;
    --memory-margin) COMPREPLY=($(compgen -W "0 10% 256M 512M 1G" -- "$cur")); return ;;
    --activate-as) COMPREPLY=($(compgen -W "prefix target plain" -- "$cur")); return ;;
    --path | --pythonpath | --ld-library-path) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --forbid | --old-prefix) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
    --name | -j | --threads | --level | --exclude | --set | --older-than | --fanout | --chunk-size | --ring | --top) return ;;
  esac

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_shmstack_options "$cmd")" -- "$cur"))
    return
  fi
  case $cmd in
    pack) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null ;;
    unpack | info | bcast | run) _shmstack_files "$cur" ;;
    env | exec | audit | rm) COMPREPLY=($(compgen -W "$(_shmstack_installed)" -- "$cur")) ;;
  esac
}
complete -F _shmstack shmstack
