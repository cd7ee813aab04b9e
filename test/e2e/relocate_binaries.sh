# Relocation of ELF search paths and of a tree built elsewhere (pack --old-prefix):
#  a) a prefix built in $T/build (libfoo.so, programs with RUNPATH and RPATH
#     naming $T/build/lib) and copied to $T/copy: pack warns about the
#     entries; with --old-prefix $T/build it does not, the manifest lists the
#     programs, and once $T/build is gone the installed programs run with
#     $ORIGIN-relative search paths, same size, mode and mtime, and audit sees
#     no call outside the stack and system directories. Packed without
#     --old-prefix the same programs cannot find libfoo.so;
#  b) an entry whose $ORIGIN-relative form would be longer: pack says why it
#     cannot be relocated, and the file is left as it is;
#  c) a tree whose only self-reference is an absolute symlink: relocated;
#  d) the pyenv CPython tree copied and packed with --old-prefix (no patchelf,
#     no sed): its extension modules' RUNPATH no longer names the pyenv
#     prefix, and importing them touches nothing outside the stack.
source "$(dirname "$0")/private_shm.bash"
source "$E2E_DIR/plain_cc.bash"
unset PYTHONPATH PYTHONHOME  # the calls counted are the stack's, not a caller's PYTHONPATH's
[[ -z $plain_cc_why ]] || skip "needs a plain C compiler: $plain_cc_why"
need_tool readelf
cd /

runpath() { readelf -d "$1" | sed -n 's/.*Library r[a-z]*path: \[\(.*\)\]$/\1/p'; }

# a) built in $T/build, copied to $T/copy
build=$T/build
mkdir -p "$build/lib" "$build/bin"
echo 'int foo(void) { return 42; }' >"$T/foo.c"
printf '#include <stdio.h>\nint foo(void);\nint main(void) { printf("foo=%%d\\n", foo()); return 0; }\n' >"$T/main.c"
cc -shared -fPIC -o "$build/lib/libfoo.so" "$T/foo.c"
cc -o "$build/bin/prog" "$T/main.c" -L"$build/lib" -lfoo -Wl,-rpath,"$build/lib:/usr/lib" -Wl,--enable-new-dtags
cc -o "$build/bin/prog-rpath" "$T/main.c" -L"$build/lib" -lfoo -Wl,-rpath,"$build/lib" -Wl,--disable-new-dtags
printf '#!/bin/sh\necho %s/lib\n' "$build" >"$build/bin/where"
chmod +x "$build/bin/where"
touch -d '2020-01-02 03:04:05.123456789' "$build/bin/prog"
cp -a "$build" "$T/copy"

"$S" pack "$T/copy" -o "$T/plain.tar.lz4" -q -v 2>"$T/pack.err"
grep -qxF "shmstack: warning: leak: 2 files name '$build' (RUNPATH entries, RPATH entries), where the tree seems to have been built or installed: pack with --old-prefix '$build' to relocate them" \
  "$T/pack.err" || fail "no warning for the search paths, with the --old-prefix remedy: $(cat "$T/pack.err")"
grep -q "^shmstack: leak: 'bin/prog': RUNPATH entry '$build/lib' is outside the stack$" "$T/pack.err" ||
  fail "-v does not list the RUNPATH: $(cat "$T/pack.err")"
grep -q "^shmstack: leak: 'bin/prog-rpath': RPATH entry '$build/lib' is outside the stack$" "$T/pack.err" ||
  fail "-v does not list the RPATH: $(cat "$T/pack.err")"

"$S" pack "$T/copy" --old-prefix "$build" -o "$T/moved.tar.lz4" -q --strict 2>"$T/pack.err" ||
  fail "pack --old-prefix --strict: $(cat "$T/pack.err")"
[[ ! -s $T/pack.err ]] || fail "pack --old-prefix still warns: $(cat "$T/pack.err")"
"$S" info --json "$T/moved.tar.lz4" | python3 -c '
import json, sys
r = json.load(sys.stdin)["relocate"]
assert r["binaries"] == ["bin/prog", "bin/prog-rpath"], r
assert r["files"] == ["bin/where"], r
assert sys.argv[1] in r["prefixes"], r' "$build" || fail "the manifest's relocation list"

mv "$build" "$T/build-gone"
dest=$("$S" unpack "$T/moved.tar.lz4")
[[ $(runpath "$dest/bin/prog") == '$ORIGIN/../lib:/usr/lib' ]] || fail "RUNPATH after install: $(runpath "$dest/bin/prog")"
[[ $(runpath "$dest/bin/prog-rpath") == '$ORIGIN/../lib' ]] || fail "RPATH after install: $(runpath "$dest/bin/prog-rpath")"
[[ $("$dest/bin/prog") == foo=42 ]] || fail "the relocated program does not run"
[[ $("$dest/bin/prog-rpath") == foo=42 ]] || fail "the relocated RPATH program does not run"
[[ $("$dest/bin/where") == "$dest/lib" ]] || fail "text naming the old prefix: $("$dest/bin/where")"
[[ $(stat -c '%s %a %y' "$dest/bin/prog") == $(stat -c '%s %a %y' "$T/copy/bin/prog") ]] ||
  fail "size, mode or mtime changed: $(stat -c '%s %a %y' "$dest/bin/prog" "$T/copy/bin/prog")"
changed=$( (cmp -l "$dest/bin/prog" "$T/copy/bin/prog" || true) | wc -l)
old_runpath="$build/lib:/usr/lib"
(( changed > 0 && changed <= ${#old_runpath} )) || fail "$changed bytes differ, not just the RUNPATH string"
"$S" audit copy --forbid "$T/build-gone" --json -o "$T/audit.json" -- "$dest/bin/prog" >/dev/null ||
  fail "audit of the relocated program exits $?"
python3 - "$T/audit.json" "$ROOT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["forbid"]["calls"] == 0 and r["calls"]["stack"] >= 2, r
if sys.argv[2] == "/dev/shm":
    assert r["calls"]["outside"] == 0, r["directories"]
PY

# ... and packed without --old-prefix, installed elsewhere, it cannot start
mkdir -p "$T/root2"
dest2=$("$S" unpack --root "$T/root2" "$T/plain.tar.lz4")
[[ $(runpath "$dest2/bin/prog") == "$build/lib:/usr/lib" ]] || fail "plain pack changed the RUNPATH"
rc=0
"$dest2/bin/prog" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 127 ]] || fail "without relocation the program should not find libfoo.so (exit $rc)"

# b) does not fit: "/q/lib" from lib/a/b/c/ would be "$ORIGIN/../../.."
mkdir -p "$T/deep/lib/a/b/c"
cc -shared -fPIC -o "$T/deep/lib/a/b/c/deep.so" "$T/foo.c" -Wl,-rpath,/q/lib -Wl,--enable-new-dtags
"$S" pack "$T/deep" --old-prefix /q -o "$T/deep.tar.lz4" -q -v 2>"$T/pack.err"
grep -qF "shmstack: warning: leak: 1 file names '/q' (RUNPATH entries), where the stack was packed from, in ELF search paths that cannot be relocated in place (-v says why): link it with \$ORIGIN-relative search paths" \
  "$T/pack.err" || fail "no warning for the binary that does not fit: $(cat "$T/pack.err")"
grep -q "^shmstack: leak: 'lib/a/b/c/deep.so': RUNPATH entry '/q/lib' names where the stack was packed from and cannot be relocated: RUNPATH '\$ORIGIN/../../..' would be longer than '/q/lib'$" \
  "$T/pack.err" || fail "no reason for the binary that does not fit: $(cat "$T/pack.err")"
dest=$("$S" unpack "$T/deep.tar.lz4")
[[ $(runpath "$dest/lib/a/b/c/deep.so") == /q/lib ]] || fail "the unrelocatable RUNPATH was changed"
expect_fail 2 "pack: --old-prefix wants an absolute path" "$S" pack "$T/deep" --old-prefix q -o "$T/x.tar.lz4"

# c) an absolute symlink into the tree, and nothing else naming it
mkdir -p "$T/links"
echo data >"$T/links/file"
ln -s "$T/links/file" "$T/links/abs"
"$S" pack "$T/links" -o "$T/links.tar.lz4" -q
dest=$("$S" unpack "$T/links.tar.lz4")
[[ $(readlink "$dest/abs") == "$dest/file" ]] || fail "absolute symlink into the stack: $(readlink "$dest/abs")"

# d) the pyenv interpreter tree, relocated by --old-prefix alone
py=${PY311_PREFIX:-/root/.pyenv/versions/3.11.7}
if [[ -x $py/bin/python3.11 ]]; then
  mkdir -p "$T/py311/lib/python3.11/site-packages"
  tar -C "$py" --exclude='./lib/python3.11/test' --exclude='./lib/python3.11/site-packages' -cf - . | tar -C "$T/py311" -xf -
  dynload=$(ls "$T"/py311/lib/python3.11/lib-dynload/_ssl.*.so)
  [[ $(runpath "$dynload") == "$py/lib" ]] || skip "this CPython's extension modules do not name its prefix: $(runpath "$dynload")"
  "$S" pack "$T/py311" --old-prefix "$py" -o "$T/py311.tar.lz4" -q --strict 2>"$T/pack.err" ||
    fail "pack of the interpreter tree: $(cat "$T/pack.err")"
  dest=$("$S" unpack "$T/py311.tar.lz4")
  [[ $(runpath "$dest/lib/python3.11/lib-dynload/${dynload##*/}") == '$ORIGIN/../..' ]] || fail "lib-dynload RUNPATH"
  [[ $(runpath "$dest/bin/python3.11") == '$ORIGIN/../lib' ]] || fail "the interpreter's RUNPATH"
  "$S" audit py311 --forbid "$py" --forbid "$T/py311" --json -o "$T/py.json" -- \
    python3 -c 'import ssl, sqlite3, zlib, ctypes, decimal, json, sys; print(sys.prefix)' \
    >"$T/out" || fail "audit of the interpreter exits $?: $(cat "$T/out")"
  [[ $(cat "$T/out") == "$dest" ]] || fail "sys.prefix is $(cat "$T/out")"
  python3 - "$T/py.json" "$ROOT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["forbid"]["calls"] == 0, r["forbid"]
if sys.argv[2] == "/dev/shm":
    assert r["calls"]["outside"] == 0, [d for d in r["directories"] if d["where"] == "outside"]
PY
else
  echo "skipping the interpreter tree: no CPython 3.11 at $py"
fi
echo "relocate binaries ok"
