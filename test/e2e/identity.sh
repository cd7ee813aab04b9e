# A stack's id covers its files' contents and its settings (issue 25, items
# 2-3): a repack with another --set, --old-prefix or changed contents (size and
# mtime kept) installs anew instead of reusing the old install; -v says why an
# install is reused; exec/env by archive path use the install of that archive
# as it is now (through a symlinked directory too) and refuse one that changed
# since it was installed; a format 1 archive (made before) still installs.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/src/pkg"
echo 'X = 1' >"$T/src/pkg/__init__.py"
echo 'print("one")' >"$T/src/pkg/run.py"
mkdir "$T/src/bin"; printf '#!/old/prefix/bin/python3\nprint(1)\n' >"$T/src/bin/pip"; chmod +x "$T/src/bin/pip"
"$S" pack "$T/src" -o "$T/a.tar.lz4" --name idt -q
id_of() { "$S" info --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
a=$(id_of "$T/a.tar.lz4")
"$S" unpack -q "$T/a.tar.lz4" >/dev/null

# (a) settings: another --set, another --old-prefix -> another id, a new install that has the setting.
"$S" pack "$T/src" -o "$T/set.tar.lz4" --name idt -q --set OMP_NUM_THREADS=1
[[ $(id_of "$T/set.tar.lz4") != "$a" ]] || fail "--set did not change the id"
"$S" pack "$T/src" -o "$T/old.tar.lz4" --name idt -q --old-prefix /old/prefix
[[ $(id_of "$T/old.tar.lz4") != "$a" ]] || fail "--old-prefix did not change the id"
out=$("$S" unpack -v -q "$T/set.tar.lz4" 2>&1)
grep -q "already installed\|same stack already in" <<<"$out" && fail "the repack with --set reused the old install: $out"
[[ $("$S" exec "$T/set.tar.lz4" -- sh -c 'echo ${OMP_NUM_THREADS:-unset}') == 1 ]] || fail "--set not in effect"
[[ $("$S" exec "$T/a.tar.lz4" -- sh -c 'echo ${OMP_NUM_THREADS:-unset}') == unset ]] || fail "a.tar.lz4 ran the --set install"

# (b) contents changed, size and mtime kept -> another id.
cp -p "$T/src/pkg/run.py" "$T/run.py.orig"
echo 'print("two")' >"$T/src/pkg/run.py"
touch -r "$T/run.py.orig" "$T/src/pkg/run.py"
"$S" pack "$T/src" -o "$T/b.tar.lz4" --name idt -q
[[ $(id_of "$T/b.tar.lz4") != "$a" ]] || fail "changed contents with size and mtime kept gave the same id"

# -v says why an install is reused.
out=$("$S" unpack -v -q "$T/a.tar.lz4" 2>&1)
grep -q "same stack already in $ROOT/shmstack-$(id -u)/idt-${a:0:12}: id $a (same files, contents and settings), installed .* by unpack from $T/a.tar.lz4" <<<"$out" ||
  fail "no reason for the reuse: $out"

# exec by archive path: repacked over the same path without unpacking -> an error saying to install it.
cp "$T/b.tar.lz4" "$T/a.tar.lz4"
expect_fail 1 "stack archive '.*a\.tar\.lz4' changed since it was installed on .*: it is idt-[0-9a-f]{12} now, but idt-${a:0:12} is what was installed from it; install it again with 'shmstack unpack" \
  "$S" exec "$T/a.tar.lz4" -- python3 -c 1
"$S" unpack -q "$T/a.tar.lz4" >/dev/null
[[ $("$S" exec "$T/a.tar.lz4" -- python3 -m pkg.run) == two ]] || fail "exec did not run the new install"
# Through a symlinked directory: the same file, the same install.
ln -s "$T" "$T/link"
[[ $("$S" exec -v "$T/link/a.tar.lz4" -- python3 -m pkg.run 2>"$T/err") == two ]] || { cat "$T/err"; fail "exec through a symlinked directory"; }
grep -q "link/a.tar.lz4: same stack already in .*(same files, contents and settings)" "$T/err" || { cat "$T/err"; fail "exec -v did not say which install"; }
# A gone archive still resolves from the records; a name too.
rm "$T/a.tar.lz4"
[[ $("$S" exec "$T/a.tar.lz4" -- python3 -m pkg.run) == two ]] || fail "exec of a removed archive"
# Two installs from one path within one second: the later by nanoseconds is used,
# whichever sorts first (CI once took the older one when both had one epoch second).
same_second() {  # same_second NEWER OLDER: both records in one second, NEWER 1 ns later
  python3 - "$@" <<'PY'
import json, sys
for path, ns in ((sys.argv[1], 1_700_000_000_000_000_001), (sys.argv[2], 1_700_000_000_000_000_000)):
    p = path + "/.shmstack/install.json"; r = json.load(open(p))
    r["installed_epoch"], r["installed_ns"] = 1_700_000_000, ns
    json.dump(r, open(p, "w"))
PY
}
u="$ROOT/shmstack-$(id -u)"
b=$(id_of "$T/b.tar.lz4")
same_second "$u/idt-${b:0:12}" "$u/idt-${a:0:12}"
[[ $("$S" exec "$T/a.tar.lz4" -- python3 -m pkg.run) == two ]] || fail "same second: not the later install (two)"
same_second "$u/idt-${a:0:12}" "$u/idt-${b:0:12}"
[[ $("$S" exec "$T/a.tar.lz4" -- python3 -m pkg.run) == one ]] || fail "same second: not the later install (one)"

# A format 1 archive (made by shmstack 0.1.0 before ids covered contents) installs, under an id mixed with its settings.
"$S" unpack -q "$E2E_DIR/../../fuzz/corpus/stack.tar.lz4" >/dev/null
out=$("$S" unpack -v -q "$E2E_DIR/../../fuzz/corpus/stack.tar.lz4" 2>&1)
grep -q "a format 1 archive: contents not compared; repack it to compare them" <<<"$out" || fail "format 1 reuse: $out"
no_leftovers
echo "identity ok"
