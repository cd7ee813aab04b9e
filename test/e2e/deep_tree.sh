# Depth is no resource: a 2,000-level path (under PATH_MAX, so extraction
# accepts it) packs, installs, lists and is removed with at most 64 open
# files, and a plain tar 1,500 levels deep installs; nothing is left behind.
# (Walking or removing with one open directory per level ran out of
# descriptors: `rm` failed after renaming the stack away, the plain tar's
# install failed and left its staging directory.)
source "$(dirname "$0")/lib.bash"
python3 - "$T/src" "$T/plain.tar" <<'PY'
import os, sys, tarfile
src, plain = sys.argv[1], sys.argv[2]
os.makedirs(src)
fd = os.open(src, os.O_RDONLY)
for _ in range(2000):
    os.mkdir("d", dir_fd=fd)
    nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = nxt
with open(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
    f.write("deep\n")
with tarfile.open(plain, "w", format=tarfile.PAX_FORMAT) as tar:
    for depth in range(1, 1501):
        info = tarfile.TarInfo("/".join(["e"] * depth))
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1700000000
        tar.addfile(info)
PY
ulimit -n 64
"$S" pack "$T/src" -o "$T/deep.tar.lz4" -q -j 1
path=$("$S" unpack "$T/deep.tar.lz4" -q -j 1)
[[ $(cat "$path/$(printf 'd/%.0s' $(seq 2000))f") == deep ]] || fail "the deepest file did not come out"
"$S" list | grep -q "^src " || fail "list does not show the deep stack"
"$S" rm src || fail "rm of a 2,000-level stack failed"
[[ ! -e $path ]] || fail "rm left the stack"
path=$("$S" unpack "$T/plain.tar" -q -j 1) || fail "a plain tar 1,500 levels deep did not install"
"$S" rm plain
[[ -z $(ls -A "$ROOT/shmstack-$(id -u)" | grep -v '^\.locks$') ]] || fail "left behind: $(ls -A "$ROOT/shmstack-$(id -u)")"
no_leftovers
echo "deep tree ok"
