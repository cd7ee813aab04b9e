# A file larger than 2 GiB (fully written, not sparse) survives pack and
# unpack byte for byte, and memory stays bounded on both sides. unpack maps
# the archive: 160 MB of random bytes make it larger than the bound, so the
# mapped pages must be let go as their frames are used.
source "$(dirname "$0")/lib.bash"
avail=$(df --output=avail -k "$T" | tail -n 1)
((avail > 6 * 1024 * 1024)) || skip "needs 6 GiB free in $T"
mkdir -p "$T/src/data"
# 2.3 GiB: repetitive text, then random bytes past the 2 GiB mark.
{ head -c 2300000000 < <(yes "shmstack large file line, offsets beyond 2^31 must survive"); head -c 160000000 /dev/urandom; } \
  >"$T/src/data/big.bin"
echo small >"$T/src/small.txt"
peak_rss_kib() { python3 -c '
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if rc == 0 else -rc)' "$@"; }
rss_pack=$(peak_rss_kib "$S" pack "$T/src" -o "$T/big.tar.lz4" -j 2)
rss_unpack=$(peak_rss_kib "$S" unpack "$T/big.tar.lz4" -j 2)
echo "peak RSS: pack ${rss_pack} KiB, unpack ${rss_unpack} KiB"
((rss_pack > 0 && rss_unpack > 0)) || fail "pack or unpack failed"
# (A sanitizer's shadow memory is not ours: the bound is checked in plain builds.)
if [[ -z ${SHMSTACK_SANITIZED:-} ]]; then
  ((rss_pack < 131072 && rss_unpack < 131072)) || fail "memory is not bounded (limit 128 MiB)"
fi
dest="$ROOT/shmstack-$(id -u)/$(ls "$ROOT/shmstack-$(id -u)" | grep -v '^\.')"
treecmp "$T/src" "$dest"
echo "large file ok"
