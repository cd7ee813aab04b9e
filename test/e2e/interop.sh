# Interoperability, both ways: standard tools extract what pack makes, and
# unpack installs archives that standard tools make (lz4, gzip, zstd, plain).
source "$(dirname "$0")/lib.bash"
# The tree has UTF-8 names, which bsdtar converts to the locale's charset: a
# UTF-8 locale whatever the caller's (Spack's build environment sets LC_ALL=C).
export LC_ALL=C.UTF-8
source "$E2E_DIR/make_tree.bash"
need_tool lz4; need_tool bsdtar; need_tool zstd
make_tree "$T/src"
"$S" pack "$T/src" -o "$T/s.tar.lz4"

mkdir "$T/gnu" "$T/bsd"
lz4 -dc "$T/s.tar.lz4" | tar -x -C "$T/gnu"
treecmp "$T/src" "$T/gnu"
bsdtar -xf "$T/s.tar.lz4" -C "$T/bsd"
treecmp "$T/src" "$T/bsd"
[[ -f $T/gnu/.shmstack/manifest.json ]] || fail "manifest is not a plain tar entry"
lz4 -dc "$T/s.tar.lz4" | tar -t >"$T/list"
[[ $(head -n 1 "$T/list") == .shmstack/manifest.json ]] || fail "manifest is not the first entry"

# Archives made by other tools: installed, named after the file. (pax, so
# that they carry nanosecond mtimes and the comparison can stay exact.)
tar -C "$T/src" --format=pax -I lz4 -cf "$T/by-lz4.tar.lz4" .
tar -C "$T/src" --format=pax -czf "$T/by-gzip.tar.gz" .
tar -C "$T/src" --format=pax -I zstd -cf "$T/by-zstd.tar.zst" .
tar -C "$T/src" --format=pax -cf "$T/plain.tar" .
bsdtar -C "$T/src" --format pax --lz4 -cf "$T/by-bsdtar.tar.lz4" .
for a in by-lz4.tar.lz4 by-gzip.tar.gz by-zstd.tar.zst plain.tar by-bsdtar.tar.lz4; do
  dest=$("$S" unpack "$T/$a")
  name=${a%%.tar*}
  [[ $(basename "$dest") == "$name"-* ]] || fail "$a installed as $(basename "$dest")"
  treecmp "$T/src" "$dest"
done
[[ $(installed_count) -eq 5 ]] || fail "expected five stacks"
"$S" info "$T/by-gzip.tar.gz" | grep -q "synthesized" || fail "info does not say the manifest is synthesized"
# A foreign archive keeps its identity: installing it again is a no-op.
"$S" unpack -v "$T/by-gzip.tar.gz" 2>&1 >/dev/null | grep -q "already installed" || fail "foreign archive reinstalled"
# list's MEMORY of a foreign archive is what its files take in whole pages, not
# the compressed archive's size (3 MB of zeros compress to ~3 KB here).
mkdir "$T/squeezed"; dd if=/dev/zero of="$T/squeezed/big.bin" bs=1000 count=3000 status=none
tar -C "$T/squeezed" -czf "$T/squeezed.tar.gz" .
"$S" unpack -q "$T/squeezed.tar.gz" >/dev/null
mem=$("$S" list --json | python3 -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["name"] == "squeezed"][0]["memory_bytes"])')
((mem >= 3000000 && mem < 3000000 + 4 * 4096)) || fail "list says a foreign archive takes $mem bytes of memory, not ~3 MB"
"$S" rm squeezed
# A sparse entry larger than a writer's range (GNU tar --sparse): its data comes
# in pieces with holes between them, written at their offsets; holes read as zeros.
mkdir "$T/sparse"
truncate -s 5M "$T/sparse/holes.bin"
printf 'middle' | dd of="$T/sparse/holes.bin" bs=1 seek=2000000 conv=notrunc status=none
printf 'end' | dd of="$T/sparse/holes.bin" bs=1 seek=4500000 conv=notrunc status=none
tar -C "$T/sparse" --sparse --format=pax -cf "$T/sparse.tar" .
for j in 1 3; do
  dest=$("$S" unpack "$T/sparse.tar" -j $j)
  cmp "$T/sparse/holes.bin" "$dest/holes.bin" || fail "sparse entry differs after unpack -j $j"
  "$S" rm sparse
done
no_leftovers
echo "interop ok"
