# pack checks its output before reading any file (issue 25, item 8):
#  - -o an existing directory: refused at once (it packed everything, then
#    failed to rename);
#  - -o inside the tree being packed: refused;
#  - an existing output: refused unless --force (it was replaced silently);
#  - -o env.tar.gz (a suffix naming another compression): refused, naming
#    env.tar.lz4; .tar.lz4, .tlz4, .lz4 and names without a suffix are fine;
#  - a missing parent directory: named as the user wrote it, not the
#    temporary file's name.
# "Before any file is read": the tree holds a FIFO, which the walk skips with
# a warning; a refusal made before the walk is the only line on stderr
# (expect_fail checks that), and nothing is written beside the output.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/env/bin" "$T/dst"
printf '#!/bin/sh\necho hi\n' >"$T/env/bin/hello"
chmod +x "$T/env/bin/hello"
mkfifo "$T/env/bin/blocker"  # the walk warns about it: none of these may get that far
quick() { timeout 10 "$@"; }

expect_fail 1 "^shmstack: error: cannot write the archive '$T/dst': it is a directory; name the archive file, e.g. -o '$T/dst/env.tar.lz4'$" \
  quick "$S" pack "$T/env" -o "$T/dst" -q
expect_fail 1 "^shmstack: error: cannot write the archive '$T/env/bin/env.tar.lz4': it is inside '$T/env', the directory being packed; write it elsewhere$" \
  quick "$S" pack "$T/env" -o "$T/env/bin/env.tar.lz4" -q
# ... also through another spelling of the tree (a symlink to it)
ln -s "$T/env" "$T/env-link"
expect_fail 1 "it is inside '$T/env-link', the directory being packed" quick "$S" pack "$T/env-link" -o "$T/env/x.tar.lz4" -q
expect_fail 1 "^shmstack: error: cannot write the archive '$T/no/such/dir/env.tar.lz4': its directory '$T/no/such/dir' does not exist$" \
  quick "$S" pack "$T/env" -o "$T/no/such/dir/env.tar.lz4" -q
expect_fail 2 "^shmstack: error: pack: -o '$T/dst/env.tar.gz' says gzip, but pack writes LZ4 frames: name it '$T/dst/env.tar.lz4'$" \
  quick "$S" pack "$T/env" -o "$T/dst/env.tar.gz" -q
for bad in env.tgz env.tar.zst env.tar.xz env.tar.bz2 env.tar env.zip; do
  expect_fail 2 "says .*, but pack writes LZ4 frames: name it '$T/dst/env.tar.lz4'$" quick "$S" pack "$T/env" -o "$T/dst/$bad" -q
done
[[ -z $(ls "$T/dst") ]] || fail "a refused pack left files: $(ls "$T/dst")"

# An existing output: refused unless --force; the old archive is kept.
rm "$T/env/bin/blocker"
"$S" pack "$T/env" -o "$T/dst/env.tar.lz4" -q
before=$(stat -c %Y.%i "$T/dst/env.tar.lz4")
echo new >"$T/env/new"
expect_fail 1 "^shmstack: error: cannot write the archive '$T/dst/env.tar.lz4': it exists; pass --force to replace it$" \
  "$S" pack "$T/env" -o "$T/dst/env.tar.lz4" -q
[[ $(stat -c %Y.%i "$T/dst/env.tar.lz4") == "$before" ]] || fail "the refused pack changed the existing archive"
"$S" pack "$T/env" -o "$T/dst/env.tar.lz4" -q --force || fail "pack --force over an existing archive"
"$S" info --json "$T/dst/env.tar.lz4" | grep -q '"entries": 3' || fail "--force did not write the new tree: $("$S" info --json "$T/dst/env.tar.lz4")"
# -f is --force too; a symlink as the output is replaced, not followed
"$S" pack "$T/env" -o "$T/dst/env.tar.lz4" -q -f || fail "pack -f"
touch "$T/elsewhere"
ln -s "$T/elsewhere" "$T/dst/link.tar.lz4"
expect_fail 1 "'$T/dst/link.tar.lz4': it exists; pass --force" "$S" pack "$T/env" -o "$T/dst/link.tar.lz4" -q
[[ ! -s $T/elsewhere ]] || fail "pack wrote through a symlink"

# Names that fit: .tar.lz4, .tlz4, .lz4, no archive suffix; and a relative -o
for good in a.tlz4 b.lz4 c.stack d; do
  "$S" pack "$T/env" -o "$T/dst/$good" -q || fail "pack -o $good"
done
(cd "$T/dst" && "$S" pack ../env -o rel.tar.lz4 -q) || fail "pack -o with a relative name"
[[ -z $(find "$T/dst" -name '*.tmp.*') ]] || fail "temporary files left"
# An unwritable directory (not as root: root may write anywhere)
if [[ $(id -u) -ne 0 ]]; then
  mkdir "$T/ro" && chmod 0555 "$T/ro"
  expect_fail 1 "cannot write the archive '$T/ro/x.tar.lz4': cannot create files in '$T/ro'" "$S" pack "$T/env" -o "$T/ro/x.tar.lz4" -q
fi
echo "pack output ok"
