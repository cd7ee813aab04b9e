# Round trip: pack a tree with every kind of entry, install it, compare the
# trees exactly (content, modes, mtimes, link targets, hard links); serial
# (-j 1) and parallel modes; reuse of an installed stack; list and rm.
source "$(dirname "$0")/lib.bash"
source "$E2E_DIR/make_tree.bash"
make_tree "$T/src"

"$S" pack "$T/src" -o "$T/a.tar.lz4" -j 1 --name demo
"$S" pack "$T/src" -o "$T/b.tar.lz4" -j 3 --name demo -v 2>"$T/pack.log"
# -v says where pack's time went: the walk, the scans, the tar stream and the output.
n='[0-9]+\.[0-9]+'
for line in "walk: [0-9]+ entries in $n s" "relocation scan: [0-9]+ text file\(s\), [0-9]+ binary\(ies\) in $n s" \
  "tar stream $n s: opening and reading files $n s \(small files read ahead by 0 thread\(s\): waited $n s for them\), waiting for a free chunk \(held by the compressors or the output\) $n s, tar headers and copies $n s; busy compressing $n s, summed over 3 threads" \
  "archive written: $n s in the output's write calls"; do
  grep -Eq "^shmstack: $line\$" "$T/pack.log" || fail "pack -v does not say: $line"
done
cmp "$T/a.tar.lz4" "$T/b.tar.lz4" >/dev/null 2>&1 && true   # manifests differ in 'created'; ids must not
id_a=$("$S" info --json "$T/a.tar.lz4" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
id_b=$("$S" info --json "$T/b.tar.lz4" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
[[ $id_a == "$id_b" ]] || fail "same tree, different ids: $id_a $id_b"
[[ ! -e $T/a.tar.lz4.tmp.* ]] || fail "temporary output left behind"
# From -j 4 on, helpers read the small files ahead of the tar stream: the same archive.
"$S" pack "$T/src" -o "$T/ahead.tar.lz4" -j 8 --name demo -v 2>"$T/pack8.log"
grep -Eq "^shmstack: tar stream $n s: opening and reading files $n s \(small files read ahead by 2 thread\(s\): " "$T/pack8.log" \
  || { cat "$T/pack8.log"; fail "pack -j 8 -v does not say that 2 threads read ahead"; }
cmp <(lz4 -dc "$T/a.tar.lz4" | tar -tv --full-time --exclude=.shmstack) <(lz4 -dc "$T/ahead.tar.lz4" | tar -tv --full-time --exclude=.shmstack) \
  || fail "pack -j 8 (files read ahead) lists other entries than pack -j 1"
cmp <(lz4 -dc "$T/a.tar.lz4" | tar -xO --exclude=.shmstack) <(lz4 -dc "$T/ahead.tar.lz4" | tar -xO --exclude=.shmstack) \
  || fail "pack -j 8 (files read ahead) holds other bytes than pack -j 1"

# serial install
dest=$("$S" unpack "$T/a.tar.lz4" -j 1)
[[ $dest == "$ROOT/shmstack-$(id -u)/demo-${id_a:0:12}" ]] || fail "unexpected install path $dest"
treecmp "$T/src" "$dest"
[[ -f $dest/.shmstack/manifest.json && -f $dest/.shmstack/install.json ]] || fail "records missing"
[[ $(stat -c %a "$ROOT/shmstack-$(id -u)") == 700 ]] || fail "user root is not 0700"

# the same id again: reused, not reinstalled
before=$(stat -c %Y "$dest/.shmstack/install.json")
dest2=$("$S" unpack "$T/b.tar.lz4" -v 2>"$T/log")
[[ $dest2 == "$dest" ]] || fail "reinstall went elsewhere"
grep -q "already installed" "$T/log" || fail "second unpack did not report reuse"
[[ $(installed_count) -eq 1 ]] || fail "expected exactly one installed stack"

# list, rm, parallel install
"$S" list | grep -q "^demo .*${id_a:0:12}" || fail "list does not show the stack"
"$S" list --json | python3 -c 'import json,sys; s=json.load(sys.stdin); assert len(s)==1 and s[0]["name"]=="demo" and s[0]["entries"]>10, s'
"$S" rm demo
[[ $(installed_count) -eq 0 ]] || fail "rm left the stack"
dest=$("$S" unpack "$T/b.tar.lz4" -j 4 -v 2>"$T/log")
treecmp "$T/src" "$dest"
# -v says where the install's time went: the parser and its waits, each pool's busy time.
n='[0-9]+\.[0-9]{2}'
grep -Eq "^shmstack: install $n s: tar parsing and dispatch $n s, waiting for decoded data $n s \(the frame reader waited $n s for a free chunk\), for the writers $n s; busy decoding $n s and writing $n s, summed over 4 \+ 4 threads\$" "$T/log" ||
  fail "unpack -v gives no breakdown of its time: $(cat "$T/log")"
"$S" rm "${id_a:0:6}"
[[ $(installed_count) -eq 0 ]] || fail "rm by id prefix left the stack"
no_leftovers

# --exclude and names
"$S" pack "$T/src" -o "$T/c.tar.lz4" --exclude '*.bin' --exclude 'odd dir ü'
dest=$("$S" unpack "$T/c.tar.lz4")
[[ ! -e $dest/pkg/sub/exactly-1MiB.bin && ! -e "$dest/odd dir ü" && -e $dest/pkg/sub/seq.txt ]] || fail "--exclude not honoured"
[[ $(basename "$dest") == src-* ]] || fail "default name is not the directory's name"
# As in .gitignore: 'deeper/' excludes the directory, not a file of that name; '/empty' only at the top.
mkdir "$T/src2"; cp -a "$T/src/pkg" "$T/src2/"; echo f >"$T/src2/deeper"; mkdir -p "$T/src2/empty" "$T/src2/pkg/empty"
"$S" pack "$T/src2" -o "$T/d.tar.lz4" --exclude 'deeper/' --exclude '/empty' -q
dest=$("$S" unpack "$T/d.tar.lz4")
[[ ! -e $dest/pkg/sub/deeper && -f $dest/deeper && ! -e $dest/empty && -d $dest/pkg/empty ]] ||
  fail "--exclude 'deeper/' or '/empty' not read as .gitignore does: $(cd "$dest" && find . -name deeper -o -name empty)"
# Many small files, the smallest chunk pool (-j 1: 4 chunks) and the default:
# files are written straight from the decoded chunks, which must neither run
# out (deadlock) nor be reused before the files in them are written.
python3 - "$T/many" <<'PY'
import os, random, sys
random.seed(7)
for i in range(4000):
    d = os.path.join(sys.argv[1], "d%02d" % (i % 37))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(random.randbytes(random.randint(0, 9000)))
PY
"$S" pack "$T/many" -o "$T/many.tar.lz4"
for j in 1 4; do
  dest=$(timeout 60 "$S" unpack "$T/many.tar.lz4" -j $j) || fail "unpack -j $j of many small files failed or hung"
  treecmp "$T/many" "$dest"
  "$S" rm many
done
echo "roundtrip ok"
