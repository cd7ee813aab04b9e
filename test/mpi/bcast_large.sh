# A stack whose archive is larger than 2 GiB broadcasts to 2 nodes: chunk
# counts and offsets beyond 2^31 work, the file arrives byte for byte on
# each node, and each rank's memory stays bounded (peak RSS < 128 MiB).
source "$(dirname "$0")/lib.bash"
avail=$(df --output=avail -k "$T" | tail -n 1)
((avail > 6 * 1024 * 1024)) || skip "needs 6 GiB free in $T"
mem=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
((mem > 8 * 1024 * 1024)) || skip "needs 8 GiB of available memory (two nodes' /dev/shm)"
mkdir -p "$T/stack"
# 35 copies of 64 MiB of random bytes: 2.2 GiB that LZ4 cannot compress
# (its window is 64 KiB), written quickly.
head -c $((64 << 20)) /dev/urandom >"$T/random"
for _ in $(seq 35); do cat "$T/random"; done >"$T/stack/big.bin"
rm "$T/random"
echo small >"$T/stack/small.txt"
"$S" pack "$T/stack" -o "$T/stack.tar.lz4" -q
size=$(stat -c %s "$T/stack.tar.lz4")
((size > 2147483648)) || fail "the archive is only $size bytes"
rss='import resource, subprocess, sys, os
rc = subprocess.run(sys.argv[2:], close_fds=False).returncode  # keep the PMI fd
open(sys.argv[1] + "/rss." + (os.environ.get("PMI_RANK") or os.environ["OMPI_COMM_WORLD_RANK"]), "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)'
export SRC=$T/stack
check='for h in nodeA nodeB; do cmp "$SRC/big.bin" "$SIMNODES_STATE/$h"/shmstack-0/stack-*/big.bin || exit 1; done'
sim nodeA:1,nodeB:1 --shm-size nodeA=3g --shm-size nodeB=3g --timeout 170 --check "$check" -- \
  "$EACH" python3 -c "$rss" "$T" "$S" bcast -v "$T/stack.tar.lz4" || { show; fail "bcast of a 2.2 GiB archive failed"; }
[[ $(ranks_with_rc 0) -eq 2 ]] || { show; fail "not every rank exited 0"; }
for r in 0 1; do
  kib=$(cat "$T/rss.$r")
  echo "rank $r peak RSS: $kib KiB"
  ((kib < 131072)) || fail "rank $r used $kib KiB: memory is not bounded"
done
grep "sent to 2 nodes" "$T/sim.err"
