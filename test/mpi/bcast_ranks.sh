# shmstack run on 4 simulated nodes x 2 ranks: every node's own /dev/shm holds
# an identical, complete copy of the stack (compared there, after the job),
# and Python imports the stack's package from /dev/shm on every rank.
source "$(dirname "$0")/lib.bash"
need_tool python3
make_tree "$T/stack"
mkdir "$T/stack/shmdemo"
echo 'ANSWER = 42' >"$T/stack/shmdemo/__init__.py"
"$S" pack "$T/stack" -o "$T/stack.tar.lz4" -q
dir=$("$S" info --json "$T/stack.tar.lz4" | python3 -c 'import json, sys; m = json.load(sys.stdin); print(m["name"] + "-" + m["id"][:12])')
export SRC=$T/stack DIR=$dir E2E_DIR
check='
  for h in nodeA nodeB nodeC nodeD; do
    python3 "$E2E_DIR/treecmp.py" "$SRC" "$SIMNODES_STATE/$h/shmstack-0/$DIR" --ignore .shmstack || { echo "node $h differs" >&2; exit 1; }
    [[ -z $(find "$SIMNODES_STATE/$h" -name ".staging-*") ]] || { echo "node $h has staging left" >&2; exit 1; }
  done'
# Each rank writes its own file: hydra may interleave lines of several ranks.
py='import os, socket, sys, shmdemo; r = os.environ.get("PMI_RANK") or os.environ["OMPI_COMM_WORLD_RANK"]; open(sys.argv[1] + "/imported." + r, "w").write(" ".join(["imported", r, socket.gethostname(), shmdemo.__file__, str(shmdemo.ANSWER)]) + "\n")'

sim nodeA:2,nodeB:2,nodeC:2,nodeD:2 --check "$check" -- "$EACH" "$S" run -v "$T/stack.tar.lz4" -- python3 -c "$py" "$T" ||
  { show; fail "run on 4 nodes x 2 ranks failed"; }
[[ $(ranks_with_rc 0) -eq 8 ]] || { show; fail "not every rank exited 0"; }
cat "$T"/imported.* >"$T/imported"
for r in 0 1 2 3 4 5 6 7; do
  grep -Eq "^imported $r node[A-D] /dev/shm/shmstack-0/$dir/shmdemo/__init__.py 42\$" "$T/imported" ||
    { show; fail "rank $r did not import the stack from /dev/shm"; }
done
for h in nodeA nodeB nodeC nodeD; do
  [[ $(grep -c "^imported [0-9] $h " "$T/imported") -eq 2 ]] || { show; fail "$h did not run 2 ranks"; }
done
grep -q "sent to 4 nodes (0 had it)" "$T/sim.err" || { show; fail "no timing summary on rank 0"; }
[[ $(grep -c "sent to" "$T/sim.err") -eq 1 ]] || { show; fail "the summary was printed by more than rank 0"; }
echo "ok"
