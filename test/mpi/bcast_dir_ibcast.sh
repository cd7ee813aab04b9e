# shmstack bcast with two stacks in one run, 1 rank per node, through
# MPI_Ibcast (--ibcast; the other tests use the default pipelined tree): a
# directory packed on the fly by rank 0 (no archive
# file anywhere) and a .tar.gz made by tar. Every node gets identical copies
# of both; --print-env output activates both (checked with Python against
# nodeA's copy).
source "$(dirname "$0")/lib.bash"
need_tool python3
make_tree "$T/stack"
mkdir "$T/stack/shmdemo"
echo 'ANSWER = 42' >"$T/stack/shmdemo/__init__.py"
ln -s /some/abs/outside "$T/stack/leaky-link"
printf '#!/bin/sh\necho /built/here/lib\n' >"$T/stack/where.sh"
mkdir -p "$T/tools/bin"
printf '#!/bin/sh\necho hello from tools\n' >"$T/tools/bin/hello-tools"
chmod 755 "$T/tools/bin/hello-tools"
tar --format=posix -czf "$T/tools.tar.gz" -C "$T/tools" .
mkdir "$T/tmp"
export SRC=$T/stack TOOLS=$T/tools E2E_DIR OUT=$T/sim.out
check='
  for h in nodeA nodeB nodeC nodeD; do
    python3 "$E2E_DIR/treecmp.py" "$SRC" "$SIMNODES_STATE/$h"/shmstack-0/stack-* --ignore .shmstack --ignore where.sh || { echo "stack differs on $h" >&2; exit 1; }
    grep -qx "echo /dev/shm/shmstack-0/stack-[0-9a-f]*/lib" "$SIMNODES_STATE/$h"/shmstack-0/stack-*/where.sh || { echo "where.sh not relocated on $h" >&2; exit 1; }
    python3 "$E2E_DIR/treecmp.py" "$TOOLS" "$SIMNODES_STATE/$h"/shmstack-0/tools-* --ignore .shmstack || { echo "tools differ on $h" >&2; exit 1; }
  done
  # the activation rank 0 printed, pointed at nodeA'"'"'s copy
  grep -E "^(export|unset) " "$OUT" | sed "s#/dev/shm#$SIMNODES_STATE/nodeA#g" >"$OUT.nodeA"
  (eval "$(cat "$OUT.nodeA")" && python3 -c "import shmdemo; assert shmdemo.ANSWER == 42" && [[ $(hello-tools) == "hello from tools" ]]) ||
    { echo "the printed activation does not work" >&2; exit 1; }'

TMPDIR=$T/tmp sim nodeA:1,nodeB:1,nodeC:1,nodeD:1 --check "$check" -- \
  "$EACH" "$S" bcast --ibcast -v --print-env --old-prefix /built/here "$T/stack" "$T/tools.tar.gz" || { show; fail "bcast failed"; }
[[ $(ranks_with_rc 0) -eq 4 ]] || { show; fail "not every rank exited 0"; }
grep -q "^export PYTHONPATH=.*/dev/shm/shmstack-0/stack-" "$T/sim.out" || { show; fail "no PYTHONPATH in --print-env output"; }
[[ $(grep -c "warning: leak: 1 file names '/some/abs/outside' (symlinks), outside the stack" "$T/sim.err") -eq 1 ]] ||
  { show; fail "rank 0 did not print pack's leak warning once"; }
[[ $(grep -c "sent to 4 nodes" "$T/sim.err") -eq 2 ]] || { show; fail "expected a summary line per stack"; }
[[ $(grep -c "broadcast .* (MPI_Ibcast, ring" "$T/sim.err") -eq 2 ]] || { show; fail "--ibcast did not send with MPI_Ibcast"; }
[[ -z $(ls -A "$T/tmp") ]] || fail "bcast DIR left files in TMPDIR: $(ls -A "$T/tmp")"
[[ $(find "$T" -name '*.tar*' -o -name '*.lz4*' | wc -l) -eq 1 ]] || fail "an archive file was written: $(find "$T" -name '*.tar*')"
echo "ok"
