# scripts/bench/import-storm's options, without running it (no root, no corpus,
# under a second): --help names every way of running the stack; --ways refuses
# a way it does not know, naming the known ones, before it needs root or a
# corpus; storm-rank (one rank of the benchmark) refuses an unknown way.
# Needs only python3 (no shmstack binary).
set -euo pipefail
E2E_DIR=${E2E_DIR:-$(cd "$(dirname "$0")" && pwd)}
repo=$(cd "$E2E_DIR/../.." && pwd)
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 0; }
fail() { echo "FAIL: $*" >&2; exit 1; }
storm=$repo/scripts/bench/import-storm

help=$("$storm" --help)
for way in direct shmstack kernel-gzip kernel-lz4 squashfuse-gzip squashfuse-lz4; do
  grep -q -- "$way" <<<"$help" || fail "--help does not name $way"
done
grep -q -- "--quick" <<<"$help" || fail "--help misses --quick"

rc=0
err=$("$storm" --ways shmstack,bogus --ranks 4 2>&1 >/dev/null) || rc=$?
((rc == 1)) || fail "--ways bogus: exit $rc, want 1"
grep -q "unknown bogus (known: direct, shmstack, kernel-gzip" <<<"$err" || fail "--ways bogus said: $err"

rc=0
err=$("$repo/scripts/bench/storm-rank" nfs -- true 2>&1) || rc=$?
((rc != 0)) || fail "storm-rank accepted an unknown way"
grep -q "^  storm-rank WAY -- COMMAND" <<<"$err" || fail "storm-rank did not print its usage: $err"
echo "ok"
