# Hostile archives (DESIGN §9): each is refused with a message naming the
# entry; nothing is written outside the staging directory, none is left.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/h"
python3 "$E2E_DIR/make_hostile.py" "$T/h"
rm -f /tmp/shmstack-evil-*
check() {  # check CASE REGEX
  expect_fail 1 "refusing entry .* of archive '$T/h/$1.tar': $2" "$S" unpack "$T/h/$1.tar"
  no_leftovers
  [[ $(installed_count) -eq 0 ]] || fail "$1: a stack was installed"
  [[ -z $(compgen -G "/tmp/shmstack-evil-*") ]] || fail "$1: wrote outside the stack"
}
check absolute "absolute path"
check dotdot "'\.\.' in path"
check symlink-then-file "its parent 'esc' is a symlink"
check symlink-then-dir "a directory would replace an earlier file or symlink"
check hardlink-outside "hard link target '/etc/passwd': absolute path"
check hardlink-self "hard link to itself"
check chardev "device files are not allowed"
check fifo "FIFOs are not allowed"
check newline "control character in name"
check reserved "'.shmstack' is reserved"

dest=$("$S" unpack "$T/h/setuid.tar")
[[ $(stat -c %a "$dest/tool") == 755 ]] || fail "setuid/setgid bits were not stripped"
echo "hostile ok"
