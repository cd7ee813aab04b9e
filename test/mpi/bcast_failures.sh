# Failures end the job everywhere, with a message from rank 0 naming what
# failed where, every rank exiting 1, and nothing half-written on any node:
#  - nodeB's /dev/shm is too small: nothing is sent, the message names nodeB
#    and both sizes;
#  - a corrupt archive: every node fails its integrity check, staging removed;
#  - a missing archive: stops everyone before anything happens.
source "$(dirname "$0")/lib.bash"
need_tool python3
mkdir -p "$T/stack/pkg"
head -c 20000000 /dev/urandom >"$T/stack/pkg/big.bin"   # ~19 MiB: more than nodeB's 8 MiB
echo 'x = 1' >"$T/stack/pkg/__init__.py"
"$S" pack "$T/stack" -o "$T/stack.tar.lz4" -q
no_staging='for h in $(ls "$SIMNODES_STATE"); do
    left=$(find "$SIMNODES_STATE/$h" -name ".staging-*" -o -name "stack-*" -maxdepth 2)
    [[ -z $left ]] || { echo "left on $h: $left" >&2; exit 1; }
  done'

# 1. too small a /dev/shm on one node (1 rank there: MPI itself needs no room)
rc=0; sim nodeA:2,nodeB:1,nodeC:1 --shm-size nodeB=8m --check "$no_staging" -- "$EACH" "$S" bcast "$T/stack.tar.lz4" || rc=$?
((rc != 0)) || { show; fail "a node without room did not fail the job"; }
all_ranks_failed 4 || { show; fail "not every rank exited 1"; }
grep -Eq "error: nodeB: not enough space in '/dev/shm/shmstack-0' on nodeB for 'stack': needs .* \([0-9]+ bytes\), .* \([0-9]+ bytes\) free" "$T/sim.err" ||
  { show; fail "the message does not name nodeB and both sizes"; }
[[ $(grep -c "error:" "$T/sim.err") -eq 1 ]] || { show; fail "expected one error line, from rank 0"; }

# 2. a corrupt archive: bytes flipped in the middle
cp "$T/stack.tar.lz4" "$T/corrupt.tar.lz4"
printf 'CORRUPTION' | dd of="$T/corrupt.tar.lz4" bs=1 seek=10000000 conv=notrunc status=none
rc=0; sim nodeA:2,nodeB:1,nodeC:1 --check "$no_staging" -- "$EACH" "$S" bcast "$T/corrupt.tar.lz4" || rc=$?
((rc != 0)) || { show; fail "a corrupt archive did not fail the job"; }
all_ranks_failed 4 || { show; fail "not every rank exited 1"; }
for h in nodeA nodeB nodeC; do
  grep -q "error: $h: cannot install 'stack': .*corrupt" "$T/sim.err" || { show; fail "no corruption message for $h"; }
done

# 3. a missing archive
rc=0; sim nodeA:2,nodeB:1 -- "$EACH" "$S" bcast "$T/missing.tar.lz4" || rc=$?
((rc != 0)) || { show; fail "a missing archive did not fail the job"; }
all_ranks_failed 3 || { show; fail "not every rank exited 1"; }
grep -q "error: cannot open archive '$T/missing.tar.lz4': No such file or directory" "$T/sim.err" || { show; fail "no message for the missing archive"; }
[[ $(grep -c "error:" "$T/sim.err") -eq 1 ]] || { show; fail "expected one error line, from rank 0"; }
echo "ok"
