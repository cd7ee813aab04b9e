# A node whose leader's memory cgroup cannot hold the stack: on three
# simulated nodes (nodeA with 2 ranks, nodeB and nodeC with 1), nodeB's ranks
# run in a real memory cgroup limited to 128 MiB (memory plus swap). A
# 192 MiB stack is refused in the control phase: every rank exits 1, rank 0
# names nodeB, both sizes and the cgroup, and no node holds a stack or a
# staging directory (no data moved). Without the check nodeB's leader is
# OOM-killed mid-stream. A stack that fits is installed everywhere, nodeB's
# pages charged to the cgroup.
source "$(dirname "$0")/lib.bash"
source "$E2E_DIR/memcg.bash"
MiB=$((1 << 20))
make_memcg shmstack-mpi $((128 * MiB))
mkdir -p "$T/big/pkg" "$T/small/pkg"
head -c $((192 * MiB)) /dev/zero >"$T/big/pkg/data.bin"
echo "x = 1" >"$T/big/pkg/__init__.py"
head -c $((16 * MiB)) /dev/zero >"$T/small/pkg/data.bin"
echo "x = 2" >"$T/small/pkg/__init__.py"
"$S" pack "$T/big" -o "$T/big.tar.lz4" -q
"$S" pack "$T/small" -o "$T/small.tar.lz4" -q

# Every rank on nodeB joins the cgroup, then runs as usual.
cat >"$T/on-node" <<EOF
#!/bin/bash
[[ \$(hostname) == nodeB ]] && echo \$\$ >"$MEMCG/cgroup.procs"
exec "\$@"
EOF
chmod +x "$T/on-node"
NODES=nodeA:2,nodeB:1,nodeC:1
nothing_anywhere='for h in $(ls "$SIMNODES_STATE"); do
    for d in "$SIMNODES_STATE/$h"/shmstack-*/*/ "$SIMNODES_STATE/$h"/shmstack-*/.staging-*; do
      [[ -e $d ]] && { echo "LEFT on $h: $d" >&2; exit 1; }
    done
  done; exit 0'
rc=0
sim "$NODES" --check "$nothing_anywhere" -- "$T/on-node" "$EACH" "$S" bcast "$T/big.tar.lz4" --memory-margin 0 || rc=$?
((rc != 0)) || { show; fail "the broadcast succeeded"; }
all_ranks_failed 4 || { show; fail "not every rank exited 1"; }
grep -q "LEFT on" "$T/sim.err" && { show; fail "a stack or staging directory was left"; }
cgroup=$(printf '%s' "$MEMCG_PATH" | sed 's/[.[\*^$]/\\&/g')
grep -Eq "error: nodeB: not enough memory for stack 'big' on nodeB: needs 192\.[0-9] MiB of memory in its tmpfs, the memory cgroup '$cgroup' has [0-9.]+ MiB left \(limit 128\.0 MiB" "$T/sim.err" ||
  { show; fail "rank 0 did not name nodeB, both sizes and the cgroup"; }
[[ $(grep -c "not enough memory" "$T/sim.err") -eq 1 ]] || { show; fail "expected one line about nodeB (from rank 0)"; }
grep -q "nodeA: not enough memory\|nodeC: not enough memory" "$T/sim.err" && { show; fail "a node outside the cgroup was refused"; }

# The default margin (256 MiB) refuses even the small stack on nodeB ...
rc=0
sim "$NODES" --check "$nothing_anywhere" -- "$T/on-node" "$EACH" "$S" bcast "$T/small.tar.lz4" || rc=$?
all_ranks_failed 4 || { show; fail "small stack, default margin: not every rank exited 1"; }
grep -Eq "error: nodeB: not enough memory for stack 'small' on nodeB: needs 16\.[0-9] MiB .* plus a 256\.0 MiB margin" "$T/sim.err" ||
  { show; fail "small stack, default margin: no refusal naming nodeB and the margin"; }

# ... which fits with a smaller one; nodeB's copy is charged to the cgroup.
charged='u=$(cat '"$MEMCG"'/memory.usage_in_bytes 2>/dev/null || cat '"$MEMCG"'/memory.current); echo "CHARGED $u" >&2'
sim "$NODES" --check "$charged" -- "$T/on-node" "$EACH" "$S" bcast "$T/small.tar.lz4" --memory-margin 10% ||
  { show; fail "the small stack was not broadcast with a 10% margin"; }
[[ $(ranks_with_rc 0) -eq 4 ]] || { show; fail "not every rank exited 0"; }
u=$(sed -n 's/^CHARGED //p' "$T/sim.err")
((u >= 16 * MiB)) || { show; fail "nodeB's stack was not charged to its cgroup ($u bytes)"; }
echo "bcast memory cgroup ok"
