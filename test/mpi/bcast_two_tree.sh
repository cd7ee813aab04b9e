# The two-tree (--two-tree) on 6 simulated nodes, with chunks small enough
# that both trees carry many: every node's /dev/shm holds an identical copy,
# and rank 0's summary names the two-tree. 6 nodes: ranks 1..5 are an odd
# count, so the second tree mirrors ranks 1..4 and rank 5 is its extra leaf
# (7 nodes would mirror all six).
source "$(dirname "$0")/lib.bash"
need_tool python3
make_tree "$T/stack"
head -c $((5 << 20)) /dev/urandom >"$T/stack/random.bin"
"$S" pack "$T/stack" -o "$T/stack.tar.lz4" -q
dir=$("$S" info --json "$T/stack.tar.lz4" | python3 -c 'import json, sys; m = json.load(sys.stdin); print(m["name"] + "-" + m["id"][:12])')
export SRC=$T/stack DIR=$dir E2E_DIR
check='
  for h in nodeA nodeB nodeC nodeD nodeE nodeF; do
    python3 "$E2E_DIR/treecmp.py" "$SRC" "$SIMNODES_STATE/$h/shmstack-0/$DIR" --ignore .shmstack || { echo "node $h differs" >&2; exit 1; }
  done'
sim nodeA:1,nodeB:1,nodeC:1,nodeD:1,nodeE:1,nodeF:1 --check "$check" -- \
  "$EACH" "$S" bcast -v --two-tree --chunk-size 1 --ring 3 "$T/stack.tar.lz4" || { show; fail "bcast --two-tree on 6 nodes failed"; }
[[ $(ranks_with_rc 0) -eq 6 ]] || { show; fail "not every rank exited 0"; }
grep -q "sent to 6 nodes (0 had it).*(two-tree, ring 3)" "$T/sim.err" || { show; fail "the summary does not name the two-tree"; }

# From 9 nodes on the two-tree is the default, with a ring of 4 per level
# (default_ring: 16 for 9 nodes); --tree still chooses the binary tree.
nine=nodeA:1,nodeB:1,nodeC:1,nodeD:1,nodeE:1,nodeF:1,nodeG:1,nodeH:1,nodeI:1
check9=${check/nodeF;/nodeF nodeG nodeH nodeI;}
sim "$nine" --check "$check9" -- "$EACH" "$S" bcast -v "$T/stack.tar.lz4" || { show; fail "bcast on 9 nodes failed"; }
[[ $(ranks_with_rc 0) -eq 9 ]] || { show; fail "not every rank exited 0 (9 nodes)"; }
grep -q "sent to 9 nodes (0 had it).*(two-tree, ring 16)" "$T/sim.err" || { show; fail "the default on 9 nodes is not the two-tree with a ring of 16"; }
sim "$nine" -- "$EACH" "$S" bcast -v --tree "$T/stack.tar.lz4" || { show; fail "bcast --tree on 9 nodes failed"; }
grep -q "sent to 9 nodes (0 had it).*(2-ary tree, ring 4)" "$T/sim.err" || { show; fail "--tree on 9 nodes is not the binary tree"; }
echo "ok"
