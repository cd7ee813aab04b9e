# Another user got to ROOT/shmstack-<uid> first (/dev/shm is world-writable):
# a directory, symlink or file of theirs under the job user's name.
#  - the root-run Prolog and Epilog never fail for it (a failing hook drains
#    the node): they set the entry aside by renaming it (never opened,
#    followed or deleted; RENAME_NOREPLACE), log it, and the job gets its stack;
#  - the user's own steps (unpack, exec, the TaskProlog) refuse it, naming
#    its owner and what to do;
#  - what the user did to their own root (.locks mode 000) is logged by the
#    hooks, which exit 0.
source "$(dirname "$0")/lib.bash"
source "$E2E_DIR/make_tree.bash"
need_root
need_tool setpriv
getent passwd 65534 >/dev/null || skip "needs a user with uid 65534 (nobody)"
getent passwd 1 >/dev/null || skip "needs a user with uid 1 (the squatter)"
U=65534 G=$(getent passwd 65534 | cut -d: -f4)
SQ=$(getent passwd 1 | cut -d: -f1)
chmod 755 "$T"; chmod 1777 "$ROOT"   # as /dev/shm
make_tree "$T/src"; chmod -R a+rX "$T/src"
"$S" pack "$T/src" -o "$T/a.tar.lz4" -q; chmod 644 "$T/a.tar.lz4"
install -m 755 "$S" "$T/shmstack-copy"   # the build tree may not be reachable by uid 65534
job() {  # job ID HOOK [ARGS]: a hook as slurmd runs it, as root, for user 65534
  env SLURM_JOB_ID="$1" SLURM_JOB_UID=$U SLURM_JOB_GID="$G" SLURM_JOB_USER=nobody "$S" slurm "${@:2}"
}
as_user() { setpriv --reuid=$U --regid="$G" --clear-groups "$T/shmstack-copy" "$@"; }
mine="$ROOT/shmstack-$U"
squat() {  # squat KIND: uid 1's entry under uid 65534's name
  rm -rf "$mine" "$ROOT"/shmstack-$U.squatted-*
  case $1 in
    directory) mkdir "$mine"; echo theirs >"$mine/keep"; chown -R 1:1 "$mine" ;;
    symlink) mkdir -p "$T/bait"; chmod 777 "$T/bait"; ln -s "$T/bait" "$mine"; chown -h 1:1 "$mine" ;;
    file) echo theirs >"$mine"; chown 1:1 "$mine" ;;
  esac
}

# The user's own steps: refused, naming the owner and what to do.
squat directory
expect_fail 1 "unsafe stack root '$mine': owned by uid 1 \\($SQ\\), not by you \\(uid $U\\): ask uid 1 \\($SQ\\) or an administrator to remove it, or install elsewhere with --root or SHMSTACK_ROOT" \
  as_user unpack "$T/a.tar.lz4"
expect_fail 1 "unsafe stack root '$mine': owned by uid 1 \\($SQ\\)" as_user exec src -- true
squat symlink
expect_fail 1 "unsafe stack root '$mine': it is a symlink \\(refusing to follow it\\), owned by uid 1 \\($SQ\\), not by you \\(uid $U\\): ask" \
  as_user unpack "$T/a.tar.lz4"
rc=0; env SLURM_JOB_ID=20 SHMSTACK_STACKS="$T/a.tar.lz4" setpriv --reuid=$U --regid="$G" --clear-groups \
  "$T/shmstack-copy" slurm task-prolog >"$T/out" 2>/dev/null || rc=$?
[[ $rc -eq 1 ]] || fail "task-prolog on a squatted root: exit $rc"
grep -q "^print shmstack: error: unsafe stack root '$mine': it is a symlink .*owned by uid 1 ($SQ)" "$T/out" || { cat "$T/out"; fail "the task was not told"; }
[[ -z $(ls -A "$T/bait") ]] || fail "wrote through the squatter's symlink"

# The Prolog sets each kind aside and installs; what was set aside is intact.
for kind in directory symlink file; do
  squat $kind
  rc=0; job 21 prolog --stacks "$T/a.tar.lz4" 2>"$T/err" || rc=$?
  [[ $rc -eq 0 ]] || { cat "$T/err"; fail "prolog with a squatted $kind: exit $rc (the node would drain)"; }
  grep -q "shmstack: warning: set aside '$mine', a $kind of uid 1 ($SQ) in the way of uid $U (nobody)'s stacks, as '$mine.squatted-by-1-" "$T/err" ||
    { cat "$T/err"; fail "the prolog did not log what it set aside ($kind)"; }
  aside=$(compgen -G "$mine.squatted-by-1-*") || fail "nothing set aside ($kind)"
  [[ $(stat -c %u "$aside") -eq 1 ]] || fail "what was set aside changed owner ($kind)"
  case $kind in
    directory) [[ $(cat "$aside/keep") == theirs ]] || fail "the squatter's directory was altered" ;;
    symlink) [[ -L $aside && -z $(ls -A "$T/bait") ]] || fail "the symlink was followed or altered" ;;
    file) [[ $(cat "$aside") == theirs ]] || fail "the squatter's file was altered" ;;
  esac
  [[ $(stat -c %u "$mine") -eq $U ]] || fail "the user root is not the user's ($kind)"
  compgen -G "$mine/src-*" >/dev/null || fail "the job got no stack ($kind)"
  job 21 epilog 2>/dev/null || fail "epilog"
done
# The Epilog sets it aside too (its wrapper runs whenever the name is a
# directory) and exits 0.
squat directory
job 22 epilog 2>"$T/err" || { cat "$T/err"; fail "epilog with a squatted root failed (the node would drain)"; }
grep -q "set aside '$mine', a directory" "$T/err" || { cat "$T/err"; fail "the epilog did not set it aside"; }
# The user's own things under the name are not moved.
rm -rf "$mine" "$ROOT"/shmstack-$U.squatted-*
ln -s "$T/bait" "$mine"; chown -h $U:"$G" "$mine"
job 23 prolog --stacks "$T/a.tar.lz4" 2>"$T/err" || fail "prolog with the user's own symlink failed"
[[ -L $mine && -z $(compgen -G "$mine.squatted-*") ]] || fail "the user's own symlink was moved"
grep -q "it is a symlink (refusing to follow it), owned by you: remove it" "$T/err" || { cat "$T/err"; fail "not logged"; }
job 23 epilog 2>/dev/null || fail "epilog with the user's own symlink failed"
rm "$mine"

# The user's own root, made unusable by the user: logged, exit 0.
job 24 prolog --stacks "$T/a.tar.lz4" 2>/dev/null || fail "prolog"
chmod 000 "$mine/.locks"
job 25 prolog --stacks "$T/a.tar.lz4" 2>"$T/err" || { cat "$T/err"; fail "prolog with .locks mode 000 failed (the node would drain)"; }
grep -q "Permission denied" "$T/err" || { cat "$T/err"; fail "the prolog did not log why"; }
job 24 epilog 2>"$T/err" || { cat "$T/err"; fail "epilog with .locks mode 000 failed (the node would drain)"; }
grep -q "Permission denied" "$T/err" || { cat "$T/err"; fail "the epilog did not log why"; }
chmod 700 "$mine/.locks"
echo "squatted root ok"
