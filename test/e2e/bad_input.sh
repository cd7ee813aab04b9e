# Bad input: each case is one line on stderr naming what and why, exit 1
# (2 for usage), and nothing left behind: no stack, no staging, no output.
source "$(dirname "$0")/lib.bash"
source "$E2E_DIR/make_tree.bash"
make_tree "$T/src"
"$S" pack "$T/src" -o "$T/good.tar.lz4"
clean() { no_leftovers; [[ $(installed_count) -eq 0 ]] || fail "a stack was installed"; }

# usage
expect_fail 2 "unknown command 'frobnicate'" "$S" frobnicate
expect_fail 2 "pack: .*output.* is required" "$S" pack "$T/src"
expect_fail 2 "unpack: missing STACK argument" "$S" unpack
expect_fail 2 "invalid --name 'a/b'" "$S" pack "$T/src" -o "$T/x.tar.lz4" --name a/b

# pack: bad source or destination, no partial output
expect_fail 1 "cannot pack '$T/missing': No such file or directory" "$S" pack "$T/missing" -o "$T/x.tar.lz4"
expect_fail 1 "cannot pack '$T/good.tar.lz4': not a directory" "$S" pack "$T/good.tar.lz4" -o "$T/x.tar.lz4"
expect_fail 1 "^shmstack: error: cannot write the archive '$T/nodir/x.tar.lz4': its directory '$T/nodir' does not exist$" \
  "$S" pack "$T/src" -o "$T/nodir/x.tar.lz4"
[[ -z $(find "$T" -maxdepth 1 -name 'x.tar.lz4*') ]] || fail "pack left output behind"

# unpack: missing, not an archive, empty
expect_fail 1 "cannot open archive '$T/missing.tar.lz4': No such file or directory" "$S" unpack "$T/missing.tar.lz4"
expect_fail 1 "cannot read archive '$T/src': not a regular file \(a directory\)" "$S" unpack "$T/src"
head -c 100000 /dev/urandom >"$T/random.tar.lz4"
expect_fail 1 "cannot read archive '$T/random.tar.lz4': not a tar archive" "$S" unpack "$T/random.tar.lz4"
: >"$T/empty.tar"
expect_fail 1 "cannot read archive '$T/empty.tar': file is empty" "$S" unpack "$T/empty.tar"
expect_fail 1 "cannot open archive '$T/missing.tar.lz4'" "$S" info "$T/missing.tar.lz4"
clean

# corrupt: a flipped byte anywhere in the data is caught by the frame checksums
size=$(stat -c %s "$T/good.tar.lz4")
for offset in 100 $((size / 3)) $((size / 2)) $((size - 100)); do
  cp "$T/good.tar.lz4" "$T/bad.tar.lz4"
  printf '\x5a' | dd of="$T/bad.tar.lz4" bs=1 seek="$offset" conv=notrunc status=none
  cmp -s "$T/good.tar.lz4" "$T/bad.tar.lz4" && continue   # the byte was already 0x5a
  expect_fail 1 "archive '$T/bad.tar.lz4'.*(corrupt|checksum)" "$S" unpack "$T/bad.tar.lz4"
  clean
done

# truncated at several points, including exactly at frame boundaries
cuts="50 1000 $((size / 2)) $((size - 1))"
cuts+=" $(python3 - "$T/good.tar.lz4" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read(); pos = 0; out = []
while pos < len(d):                       # walk frames: header, blocks, end mark, trailer
    flg = d[pos + 4]; pos += 7 + (8 if flg & 8 else 0)
    while True:
        n = struct.unpack_from("<I", d, pos)[0]; pos += 4
        if n == 0: break
        pos += n & 0x7FFFFFFF
    pos += 32
    if pos < len(d): out.append(pos)
print(" ".join(map(str, out)))
PY
)"
for cut in $cuts; do
  head -c "$cut" "$T/good.tar.lz4" >"$T/cut.tar.lz4"
  expect_fail 1 "archive '$T/cut.tar.lz4'.*(truncated|incomplete|Truncated)" "$S" unpack "$T/cut.tar.lz4"
  clean
done
tar -C "$T/src" -czf "$T/cut.tar.gz" .; truncate -s 3000 "$T/cut.tar.gz"
expect_fail 1 "archive '$T/cut.tar.gz'" "$S" unpack "$T/cut.tar.gz"
clean

# stack root problems
expect_fail 1 "cannot use stack root '$T/nowhere': No such file or directory" "$S" unpack "$T/good.tar.lz4" --root "$T/nowhere"
expect_fail 1 "cannot use stack root '$T/good.tar.lz4': not a directory" "$S" unpack "$T/good.tar.lz4" --root "$T/good.tar.lz4"
mkdir -p "$T/r1" "$T/elsewhere"; ln -s "$T/elsewhere" "$T/r1/shmstack-$(id -u)"
expect_fail 1 "unsafe stack root '$T/r1/shmstack-$(id -u)': it is a symlink" "$S" unpack "$T/good.tar.lz4" --root "$T/r1"
[[ -z $(ls -A "$T/elsewhere") ]] || fail "wrote through the symlinked root"
mkdir -p "$T/r2"; : >"$T/r2/shmstack-$(id -u)"
expect_fail 1 "unsafe stack root '$T/r2/shmstack-$(id -u)': not a directory, owned by you: remove it, or install elsewhere with --root or SHMSTACK_ROOT" "$S" unpack "$T/good.tar.lz4" --root "$T/r2"

if [[ $(id -u) -eq 0 ]]; then
  # foreign-owned user root
  mkdir -p "$T/r3/shmstack-0"; chown 65534:65534 "$T/r3/shmstack-0"
  expect_fail 1 "unsafe stack root '$T/r3/shmstack-0': owned by uid 65534 \(nobody\), not by you \(uid 0\): ask uid 65534 \(nobody\) or an administrator to remove it" \
    "$S" unpack "$T/good.tar.lz4" --root "$T/r3"
  [[ -z $(ls -A "$T/r3/shmstack-0") ]] || fail "wrote into a foreign-owned root"
  # unwritable root, as an ordinary user
  if command -v setpriv >/dev/null; then
    # (a copy of the binary: the build tree may not be reachable by that user)
    mkdir -p "$T/r4"; chmod 755 "$T/r4"; chmod o+rx "$T"; chmod o+r "$T/good.tar.lz4"
    install -m 755 "$S" "$T/shmstack-copy"
    expect_fail 1 "cannot create '$T/r4/shmstack-65534': Permission denied" \
      setpriv --reuid=65534 --regid=65534 --clear-groups "$T/shmstack-copy" unpack "$T/good.tar.lz4" --root "$T/r4"
    # unreadable archive; unreadable file and directory in the tree to pack: nothing left behind
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$T/shmstack-copy" "$@"; }
    mkdir -p "$T/r5"; chmod 777 "$T/r5"; cp "$T/good.tar.lz4" "$T/secret.tar.lz4"; chmod 600 "$T/secret.tar.lz4"
    expect_fail 1 "cannot open archive '$T/secret.tar.lz4': Permission denied" as_nobody unpack "$T/secret.tar.lz4" --root "$T/r5"
    mkdir -p "$T/psrc/sub" "$T/pout"; chmod -R o+rX "$T/psrc"; chmod 777 "$T/pout"
    echo a >"$T/psrc/a"; echo hidden >"$T/psrc/sub/hidden"; chmod 644 "$T/psrc/a"; chmod 600 "$T/psrc/sub/hidden"
    expect_fail 1 "cannot open '$T/psrc/sub/hidden': Permission denied" as_nobody pack "$T/psrc" -o "$T/pout/p.tar.lz4"
    chmod 644 "$T/psrc/sub/hidden"; chmod 700 "$T/psrc/sub"
    expect_fail 1 "cannot open directory '$T/psrc/sub': Permission denied" as_nobody pack "$T/psrc" -o "$T/pout/p.tar.lz4"
    [[ -z $(ls -A "$T/pout") ]] || fail "pack as an ordinary user left output behind"
  fi
  # unpack_on_small_tmpfs SIZE ARCHIVE: unpack onto a private tmpfs of SIZE;
  # leaves $T/rc, $T/err, and what remained on it: $T/left (staging), $T/stacks
  unpack_on_small_tmpfs() {
    mkdir -p "$T/small"
    unshare -m bash -c '
      mount -t tmpfs -o size="$5" tmpfs "$1" || exit 99
      "$2" unpack "$3" --root "$1" "${@:6}" >"$4/out" 2>"$4/err"; echo $? >"$4/rc"
      find "$1" -name ".staging-*" >"$4/left"; find "$1" -mindepth 2 -maxdepth 2 ! -path "*/.locks*" >"$4/stacks"' \
      _ "$T/small" "$S" "$2" "$T" "$1" "${@:3}"
  }
  if unshare -m true 2>/dev/null; then
    # not enough space: refused before writing, naming the node and both sizes
    unpack_on_small_tmpfs 1m "$T/good.tar.lz4"
    [[ $(cat "$T/rc") -eq 1 ]] || fail "out of space: expected exit 1"
    grep -Eq "not enough space for stack 'src' in '$T/small/shmstack-0' on $(hostname): needs .* bytes\), .* bytes\) free" "$T/err" \
      || { cat "$T/err"; fail "out-of-space message"; }
    [[ ! -s $T/left && ! -s $T/stacks ]] || fail "out of space left files behind"
    # out of space mid-way (no manifest, so no estimate up front): clean error, staging removed
    mkdir -p "$T/zsrc/a" "$T/zsrc/b"
    head -c 8000000 /dev/zero >"$T/zsrc/b/zeros.bin"; echo first >"$T/zsrc/a/first.txt"
    tar -C "$T/zsrc" -czf "$T/zeros.tar.gz" .
    unpack_on_small_tmpfs 2m "$T/zeros.tar.gz"
    [[ $(cat "$T/rc") -eq 1 ]] || fail "mid-way out of space: expected exit 1"
    grep -q "No space left on device" "$T/err" || { cat "$T/err"; fail "mid-way out-of-space message"; }
    [[ $(wc -l <"$T/err") -eq 1 && ! -s $T/left && ! -s $T/stacks ]] || fail "mid-way out of space left files behind"
    # the same with 8 writers and a fast decoder: ranges of the file go through mappings
    # (populated first: a full tmpfs must be an error, never a SIGBUS)
    head -c 60000000 /dev/zero >"$T/zsrc/b/zeros.bin"
    tar -C "$T/zsrc" -cf - . | lz4 -1 -q >"$T/zeros.tar.lz4"
    unpack_on_small_tmpfs 8m "$T/zeros.tar.lz4" -j 8
    [[ $(cat "$T/rc") -eq 1 ]] || { cat "$T/err"; fail "mid-way out of space with 8 writers: expected exit 1"; }
    grep -q "No space left on device" "$T/err" || { cat "$T/err"; fail "mid-way out-of-space message with 8 writers"; }
    [[ $(wc -l <"$T/err") -eq 1 && ! -s $T/left && ! -s $T/stacks ]] || fail "mid-way out of space (8 writers) left files behind"
  fi
fi
clean
echo "bad input ok"
