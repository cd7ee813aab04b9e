# A node that already has the stack takes no part in the data phase: nodeB
# gets it beforehand (shmstack unpack into its /dev/shm); the broadcast then
# sends nothing to nodeB (rank 0's per-node report: "present, received
# nothing"), leaves its copy untouched (same install record), and installs
# on the other nodes. A second broadcast where every node has it sends nothing.
source "$(dirname "$0")/lib.bash"
need_tool python3
make_tree "$T/stack"
"$S" pack "$T/stack" -o "$T/stack.tar.lz4" -q
export S ARCHIVE=$T/stack.tar.lz4 SAVED=$T/nodeB-install.json
before='"$S" unpack -q --root "$SIMNODES_STATE/nodeB" "$ARCHIVE" >/dev/null
        cp "$SIMNODES_STATE"/nodeB/shmstack-0/stack-*/.shmstack/install.json "$SAVED"'
check='cmp "$SAVED" "$SIMNODES_STATE"/nodeB/shmstack-0/stack-*/.shmstack/install.json || { echo "nodeB was reinstalled" >&2; exit 1; }
       for h in nodeA nodeC; do [[ -d $(echo "$SIMNODES_STATE/$h"/shmstack-0/stack-*) ]] || { echo "$h has no stack" >&2; exit 1; }; done'
sim nodeA:1,nodeB:2,nodeC:1 --before "$before" --check "$check" -- "$EACH" "$S" bcast -v "$ARCHIVE" || { show; fail "bcast failed"; }
[[ $(ranks_with_rc 0) -eq 4 ]] || { show; fail "not every rank exited 0"; }
grep -q "sent to 2 nodes (1 had it)" "$T/sim.err" || { show; fail "nodeB was not counted as having it"; }
grep -q "broadcast .* (2-ary tree, ring 4)" "$T/sim.err" || { show; fail "the default up to 8 nodes is not the pipelined binary tree with a ring of 4"; }
grep -q "  nodeB: present, received nothing$" "$T/sim.err" || { show; fail "data was sent to nodeB"; }
grep -q "  nodeC: installed in .*, received [1-9]" "$T/sim.err" || { show; fail "nodeC received nothing"; }
grep -q "  nodeC: installed in .*, received [1-9].*; install [0-9.]* s: tar parsing and dispatch .* over [0-9]* + [0-9]* threads" "$T/sim.err" ||
  { show; fail "-v does not say where nodeC's install went"; }

before='for h in nodeA nodeB; do "$S" unpack -q --root "$SIMNODES_STATE/$h" "$ARCHIVE" >/dev/null; done'
sim nodeA:1,nodeB:1 --before "$before" -- "$EACH" "$S" bcast -v "$ARCHIVE" || { show; fail "bcast failed"; }
grep -q "nothing sent: all 2 nodes had it" "$T/sim.err" || { show; fail "a stack every node had was sent"; }
echo "ok"
