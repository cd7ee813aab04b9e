# Hostile archives (DESIGN §9): each is refused with a message naming the
# archive and the entry, or sanitised; nothing is written outside the
# staging directory (every path under the test's directory is compared
# before and after, and /tmp is checked for the absolute-path targets), and
# no staging or stack is left.
source "$(dirname "$0")/lib.bash"
source "$E2E_DIR/make_tree.bash"
need_tool lz4
make_tree "$T/src"
"$S" pack "$T/src" -o "$T/real.tar.lz4" -q
lz4 -dcq "$T/real.tar.lz4" >"$T/real.tar"
mkdir -p "$T/h"
python3 "$E2E_DIR/make_hostile.py" "$T/h" "$T/real.tar"
rm -f /tmp/shmstack-evil-*
U=$(id -u)

# Everything under $T but the expected churn: the test's own files (out, err,
# diff), the user root's own mtime (staging created and removed), its locks.
snapshot() {
  find "$T" -mindepth 1 \( -path "$T/out" -o -path "$T/err" -o -path "$T/diff" -o -path "$ROOT/shmstack-$U/.locks" \) -prune -o \
    \( -path "$ROOT/shmstack-$U" -o -path "$ROOT" \) -prune -o -printf '%p %y %s %T@\n' | sort
}
check() {  # check CASE REGEX
  local before; before=$(snapshot)
  expect_fail 1 "$2" "$S" unpack "$T/h/$1.tar"
  no_leftovers
  [[ $(installed_count) -eq 0 ]] || fail "$1: a stack was installed"
  [[ -z $(compgen -G "/tmp/shmstack-evil-*") ]] || fail "$1: wrote outside the stack: $(echo /tmp/shmstack-evil-*)"
  diff <(echo "$before") <(snapshot) >"$T/diff" || { cat "$T/diff"; fail "$1: wrote outside the staging directory"; }
  # the user root holds nothing but its lock files
  [[ -z $(ls -A "$ROOT/shmstack-$U" 2>/dev/null | grep -vx .locks) ]] || fail "$1: left $(ls -A "$ROOT/shmstack-$U")"
}
refused() {  # refused CASE REGEX: the entry is named
  check "$1" "refusing entry .* of archive '$T/h/$1.tar': $2"
}
refused absolute "absolute path"
refused dotdot "'\.\.' in path"
refused symlink-then-file "its parent 'esc' is a symlink"
refused symlink-up-then-file "its parent 'up' is a symlink"
refused symlink-then-dir "a directory would replace an earlier file or symlink"
refused hardlink-outside "hard link target '/etc/passwd': absolute path"
refused hardlink-dotdot "hard link target '\.\./\.\./\.\./\.\./etc/passwd': '\.\.' in path"
refused hardlink-dir "hard link to 'd', which is not an earlier file of this archive"
refused hardlink-later "hard link to 'later.txt', which is not an earlier file of this archive"
refused hardlink-self "hard link to itself"
refused chardev "device files are not allowed"
refused blockdev "device files are not allowed"
refused fifo "FIFOs are not allowed"
refused newline "control character in name"
refused escape "control character in name"
refused longpath "path longer than PATH_MAX"
grep -q "^shmstack: error: refusing entry 'd/d/.*\.\.\..*d/f' (4201 bytes) of archive" "$T/err" || fail "the long name is not abbreviated"
refused longname "path component longer than NAME_MAX"
refused reserved "'.shmstack' is reserved"
# (Sockets cannot be written in a tar: no tar type flag means "socket".)

# Data that is not there, and a bomb: 1 KiB of archive declaring 100 GiB.
check short-data "archive '$T/h/short-data.tar'.*big\.bin.*(runcated|unexpected end)"
check bomb "archive '$T/h/bomb.tar'.*bomb\.bin.*(runcated|unexpected end)"
[[ $(du -sm "$T" | cut -f1) -lt 100 ]] || fail "the bomb wrote its declared data"

# Manifests that lie: caught at the entry that exceeds them, or at the end;
# one declaring an absurd size is refused before anything is written.
refused manifest-bytes-under "the archive holds more file data than its manifest declares \([0-9]+ bytes\)"
refused manifest-entries-under "the archive holds more entries than its manifest declares \(2\)"
check manifest-bytes-over "cannot install '$T/h/manifest-bytes-over.tar': the archive is incomplete: [0-9]+ of [0-9]+ entries, [0-9]+ of [0-9]+ bytes"
check manifest-disk-huge "not enough space for stack 'src' in '$ROOT/shmstack-$U'"
refused manifest-disk-under "the archive's files take more memory than its manifest declares \([0-9]+ bytes in whole pages\)"
# Sizes that contradict each other or their types: refused before anything is written.
invalid() { check "manifest-$1" "invalid manifest in '$T/h/manifest-$1.tar': $2"; }
invalid disk-zero "'disk_bytes' \(0\) is less than 'bytes' \([0-9]+\)"
invalid disk-odd "'disk_bytes' \([0-9]+\) is not a whole number of 4096-byte pages"
invalid disk-over "'disk_bytes' \([0-9]+\) is more than [0-9]+ entries holding [0-9]+ bytes can take"
invalid entries-wrap "'entries' is 18446744073709551615, more than 281474976710656"
invalid format-wrap "format 4294967297 is not supported by this shmstack \(reads formats 1 to 2\)"

# Text fields reach the terminal with their controls escaped, in info and list.
"$S" info "$T/h/manifest-strings.tar" >"$T/info"
"$S" unpack -q "$T/h/manifest-strings.tar" >/dev/null
"$S" list >>"$T/info"
! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]' "$T/info" || { cat -v "$T/info"; fail "a control character reached the terminal"; }
grep -q '^source:      /x\\x1b\[2J\\x0aforged: line$' "$T/info" || { cat -v "$T/info"; fail "info: source not escaped"; }
! grep -q '^forged' "$T/info" || fail "a forged line"
"$S" rm src

# Sanitised, not refused: setuid/setgid stripped; sticky kept on directories only.
dest=$("$S" unpack -q "$T/h/modes.tar")
[[ $(stat -c %a "$dest/tool") == 755 ]] || fail "file mode $(stat -c %a "$dest/tool"): special bits not stripped"
[[ $(stat -c %a "$dest/shared") == 1775 ]] || fail "directory mode $(stat -c %a "$dest/shared"): expected 1775"
echo "hostile ok"
