# Faults on four simulated nodes (nodeA with 2 ranks, nodeB-D with 1). Each
# must end the job on every rank with exit 1, name what failed, and leave no
# staging and no incomplete stack on any node:
#  - the archive corrupted (a byte flipped) at six points, from the manifest's
#    frame to the last bytes, and truncated at three;
#  - nodeB's /dev/shm too small, found before anything is sent;
#  - nodeB's /dev/shm filling up mid-way (its manifest understates the space
#    needed, so the up-front check passes and the writes hit ENOSPC);
#  - an archive that cannot be opened at start (a missing one: bcast_failures).
source "$(dirname "$0")/lib.bash"
need_tool python3
need_tool lz4
mkdir -p "$T/stack/pkg/sub"
head -c 12000000 /dev/urandom >"$T/stack/pkg/big.bin"   # 12 frames; more than nodeB's 8 MiB
for i in $(seq 50); do echo "x = $i" >"$T/stack/pkg/sub/m$i.py"; done
"$S" pack "$T/stack" -o "$T/stack.tar.lz4" -q
size=$(stat -c %s "$T/stack.tar.lz4")
NODES=nodeA:2,nodeB:1,nodeC:1,nodeD:1
nothing_left='for h in $(ls "$SIMNODES_STATE"); do
    for d in "$SIMNODES_STATE/$h"/shmstack-*/*/ "$SIMNODES_STATE/$h"/shmstack-*/.staging-*; do
      [[ -e $d ]] || continue
      [[ -f $d/.shmstack/install.json ]] || { echo "INCOMPLETE on $h: $d" >&2; exit 1; }
    done
  done'

# fails_everywhere ARCHIVE REGEX [simnodes options]: every rank exits 1, rank 0
# says REGEX, nothing incomplete is left anywhere.
fails_everywhere() {
  local archive=$1 regex=$2; shift 2
  local rc=0
  sim "$NODES" "$@" --check "$nothing_left" -- "$EACH" "$S" bcast "$archive" || rc=$?
  ((rc != 0)) || { show; fail "$archive: the job succeeded"; }
  all_ranks_failed 5 || { show; fail "$archive: not every rank exited 1"; }
  grep -q "INCOMPLETE on" "$T/sim.err" && { show; fail "$archive: something incomplete was left"; }
  grep -Eq "$regex" "$T/sim.err" || { show; fail "$archive: no message matching /$regex/"; }
  return 0
}

# Corruption: a flipped byte in the manifest's frame, the first data frames,
# the middle, the last frame and the final trailer.
for offset in 40 3000 $((size / 3)) $((size / 2)) $((size - 5000)) $((size - 3)); do
  cp "$T/stack.tar.lz4" "$T/flip.tar.lz4"
  orig=$(od -An -tu1 -j "$offset" -N1 "$T/flip.tar.lz4" | tr -d ' ')
  printf "\\x$(printf %02x $(((orig + 1) % 256)))" | dd of="$T/flip.tar.lz4" bs=1 seek="$offset" conv=notrunc status=none
  fails_everywhere "$T/flip.tar.lz4" "archive '$T/flip.tar.lz4'.*(corrupt|checksum|damaged)|cannot install 'stack': .*(corrupt|checksum)"
done
# Truncation: inside the manifest's frame, in the middle, one byte short.
for keep in 100 $((size / 2)) $((size - 1)); do
  head -c "$keep" "$T/stack.tar.lz4" >"$T/cut.tar.lz4"
  fails_everywhere "$T/cut.tar.lz4" "(truncated|incomplete|unexpected end)"
done

# /dev/shm too small on nodeB: refused up front, naming nodeB.
fails_everywhere "$T/stack.tar.lz4" "error: nodeB: not enough space in '/dev/shm/shmstack-0' on nodeB" --shm-size nodeB=8m

# A manifest that understates its memory (1 MiB) no longer gets past the space check
# to fill nodeB mid-way: it contradicts its own sizes and is refused before anything is sent.
lz4 -dcq "$T/stack.tar.lz4" >"$T/stack.tar"
python3 "$E2E_DIR/make_hostile.py" --lie "$T/stack.tar" "$T/understated.tar" disk_bytes=$((1 << 20))
fails_everywhere "$T/understated.tar" "invalid manifest in '$T/understated.tar': 'disk_bytes' \\([0-9]+\\) is less than 'bytes'" --shm-size nodeB=8m

# An archive that cannot be opened at start (its path goes through a file).
fails_everywhere "$T/stack.tar.lz4/nope" "cannot open archive '$T/stack.tar.lz4/nope': Not a directory"
echo "faults ok"
