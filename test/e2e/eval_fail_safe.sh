# The documented eval forms stop a script when shmstack fails (issue 25, 1):
# `eval "$(shmstack env MISSING)"` and `eval "$(shmstack bcast --print-env
# CORRUPT)"` used to print nothing, `eval ""` succeeded and a `set -e` batch
# script ran on. Now a failing env or bcast --print-env prints a line that
# makes the eval fail (in sh, csh and fish), and the error on stderr; a usage
# error too. The two-line form the docs show stops even when the launcher
# fails before shmstack runs.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/src/pkg"; echo 'X = 1' >"$T/src/pkg/__init__.py"
"$S" pack "$T/src" -o "$T/good.tar.lz4" --name good -q
cp "$T/good.tar.lz4" "$T/bad.tar.lz4"; printf '\x00\x01' | dd of="$T/bad.tar.lz4" bs=1 seek=200 conv=notrunc status=none
export S T

stops() {  # SHELL-SCRIPT: run under bash -euo pipefail, must stop before "reached" with shmstack's error
  local rc=0
  bash -c "set -euo pipefail; $1; echo reached" >"$T/out" 2>"$T/err" || rc=$?
  ((rc != 0)) && ! grep -q reached "$T/out" || { cat "$T/out" "$T/err"; fail "did not stop: $1"; }
  grep -q "^shmstack: error: " "$T/err" || { cat "$T/err"; fail "no error from shmstack: $1"; }
}
stops 'eval "$("$S" env missing)"'
stops 'eval "$("$S" env --shell fish missing)"'
stops 'eval "$("$S" env --bogus good)"'
stops 'eval "$(env -u SLURM_NTASKS "$S" bcast --print-env "$T/missing.tar.lz4")"'
stops 'eval "$(env -u SLURM_NTASKS "$S" bcast --print-env "$T/bad.tar.lz4")"'
stops 'eval "$(env -u SLURM_NTASKS "$S" bcast --print-env --ring 1 "$T/good.tar.lz4")"'
# The documented two-line form also stops when shmstack never ran.
stops 'activation=$(false) || { echo "shmstack: error: launcher failed" >&2; exit 1; }; eval "$activation"'
# Nothing half-installed from the corrupt archive.
no_leftovers
[[ $(installed_count) == 0 ]] || fail "something was installed"

# csh and fish: the line makes their eval fail too.
if command -v csh >/dev/null; then
  rc=0; csh -e -c 'eval "`$S env missing`"; echo reached' >"$T/out" 2>/dev/null || rc=$?
  ((rc != 0)) && ! grep -q reached "$T/out" || fail "csh -e did not stop"
fi
if command -v fish >/dev/null; then
  out=$(fish -c 'eval ($S env --shell fish missing); or echo eval-failed' 2>/dev/null) || true
  [[ $out == eval-failed ]] || fail "fish: the eval did not fail: $out"
fi
# json readers check the exit status: nothing on stdout.
rc=0; "$S" env --shell json missing >"$T/out" 2>/dev/null || rc=$?
((rc == 1)) && [[ ! -s $T/out ]] || fail "env --shell json printed on failure"
# Success is unchanged.
"$S" unpack -q "$T/good.tar.lz4" >/dev/null
bash -c 'set -euo pipefail; eval "$("$S" env good)"; python3 -c "import pkg"; echo reached' | grep -q reached || fail "env good"
echo "eval fail-safe ok"
