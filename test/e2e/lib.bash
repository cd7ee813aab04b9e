# Common helpers for end-to-end scenarios. Source it first:
#   source "$(dirname "$0")/lib.bash"
# Gives: $S (the shmstack binary), $T (a private temporary directory, removed
# at exit), $ROOT (a stack root under $T, exported as SHMSTACK_ROOT), and the
# helpers below. Never touches $HOME or the real /dev/shm.
set -euo pipefail
S=${SHMSTACK:?set SHMSTACK to the shmstack binary}
E2E_DIR=${E2E_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/shmstack-e2e.XXXXXX")
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
ROOT=$T/root
mkdir -p "$ROOT"
export SHMSTACK_ROOT=$ROOT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 0; }
need_root() { [[ $(id -u) -eq 0 ]] || skip "needs root"; }
need_tool() { command -v "$1" >/dev/null || skip "needs $1"; }

# expect_fail CODE REGEX CMD...: CMD must exit with CODE and print exactly one
# line on stderr, "shmstack: error: ..." matching REGEX (extended grep); usage
# errors (exit 2) may add one "Try '...--help'." line.
expect_fail() {
  local code=$1 regex=$2; shift 2
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  [[ $rc -eq $code ]] || { cat "$T/err" >&2; fail "expected exit $code, got $rc: $*"; }
  local lines=1
  [[ $code -eq 2 ]] && lines=2 && { tail -n 1 "$T/err" | grep -q "^Try 'shmstack.*--help'\.$" || fail "no --help hint: $*"; }
  [[ $(wc -l <"$T/err") -eq $lines ]] || { cat "$T/err" >&2; fail "expected $lines line(s) on stderr: $*"; }
  head -n 1 "$T/err" | grep -q "^shmstack: error: " || { cat "$T/err" >&2; fail "not an error line: $*"; }
  head -n 1 "$T/err" | grep -Eq -- "$regex" || { cat "$T/err" >&2; fail "stderr does not match /$regex/: $*"; }
}

# treecmp A B: identical trees (content, type, mode, mtime, link targets,
# hard-link groups), ignoring .shmstack/.
treecmp() { python3 "$E2E_DIR/treecmp.py" "$1" "$2" --ignore .shmstack; }

# no_leftovers: no staging or removal directory under the stack root.
no_leftovers() {
  local left
  left=$(find "$ROOT" -maxdepth 2 \( -name '.staging-*' -o -name '.removing-*' \) 2>/dev/null || true)
  [[ -z $left ]] || fail "left behind: $left"
}

# installed_count: stacks installed under $ROOT for this user.
installed_count() { find "$ROOT/shmstack-$(id -u)" -mindepth 1 -maxdepth 1 ! -name '.*' 2>/dev/null | wc -l; }

# slow_tree DIR: a tree whose install takes a while (4,000 small files), for
# catching an install in the act (stop_mid_install).
slow_tree() {
  mkdir -p "$1/many"
  head -c 8000000 /dev/urandom >"$T/slow.bin"
  (cd "$1/many" && split -b 2k -a 4 "$T/slow.bin" f)
  rm "$T/slow.bin"
}

# stop_mid_install PID: waits until process PID has a staging directory under
# $ROOT, then stops it (SIGSTOP) while it still has one; fails unless it caught
# it in the act (the caller sends its signals, then SIGCONT). Archives are
# regular files (a FIFO is refused), so this, not a stalled writer, is how a
# test holds an install mid-way.
stop_mid_install() {
  local pid=$1 staging="$ROOT/shmstack-$(id -u)/.staging-*"
  while kill -0 "$pid" 2>/dev/null && ! compgen -G "$staging" >/dev/null; do :; done
  kill -STOP "$pid" 2>/dev/null || return 1
  compgen -G "$staging" >/dev/null && return 0
  kill -CONT "$pid"
  return 1
}
