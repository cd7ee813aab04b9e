# Running as root on behalf of a job's user (the Slurm Prolog/Epilog path):
# shmstack becomes the user before it touches a file, so every file of the
# installed stack, the user root, its locks and the job's records belong to
# the user, and nothing is created as root. A user root that is a symlink or
# belongs to someone else is set aside, and nothing is written through it.
source "$(dirname "$0")/lib.bash"
source "$E2E_DIR/make_tree.bash"
need_root
getent passwd 65534 >/dev/null || skip "needs a user with uid 65534 (nobody)"
U=65534 G=$(getent passwd 65534 | cut -d: -f4)
chmod 755 "$T"; chmod 1777 "$ROOT"   # as /dev/shm
make_tree "$T/src"
chmod -R a+rX "$T/src"
"$S" pack "$T/src" -o "$T/a.tar.lz4" -q
chmod 644 "$T/a.tar.lz4"
job() {  # job ID HOOK [ARGS]: a hook as slurmd runs it, as root, for user 65534
  env SLURM_JOB_ID="$1" SLURM_JOB_UID=$U SLURM_JOB_GID="$G" SLURM_JOB_USER=nobody "$S" slurm "${@:2}"
}

job 11 prolog --stacks "$T/a.tar.lz4" || fail "prolog for uid $U failed"
stack=$(ls -d "$ROOT/shmstack-$U"/src-* 2>/dev/null) || fail "nothing installed for uid $U"
treecmp "$T/src" "$stack"
[[ -z $(find "$ROOT/shmstack-$U" ! -uid $U) ]] || fail "not owned by uid $U: $(find "$ROOT/shmstack-$U" ! -uid $U | head -5)"
[[ -z $(find "$ROOT/shmstack-$U" ! -gid "$G") ]] || fail "not of group $G: $(find "$ROOT/shmstack-$U" ! -gid "$G" | head -5)"
[[ -f $ROOT/shmstack-$U/.jobs/11/.prolog.json ]] || fail "no record of the prolog"
[[ -z $(find "$ROOT" -mindepth 1 ! -path "$ROOT/shmstack-$U*") ]] || fail "created outside the user root: $(find "$ROOT" -mindepth 1 ! -path "$ROOT/shmstack-$U*")"
[[ -z $(find "$ROOT" -mindepth 1 -uid 0) ]] || fail "created as root: $(find "$ROOT" -mindepth 1 -uid 0)"

# The epilog removes it, as the user; nothing of root's appears.
job 11 epilog || fail "epilog for uid $U failed"
[[ -z $(ls "$ROOT/shmstack-$U" | grep src-) ]] || fail "the epilog did not remove the stack"
[[ -z $(find "$ROOT" -mindepth 1 -uid 0) ]] || fail "the epilog created as root: $(find "$ROOT" -mindepth 1 -uid 0)"

# An archive only root may read: the user's install fails (not root's).
cp "$T/a.tar.lz4" "$T/secret.tar.lz4"; chmod 600 "$T/secret.tar.lz4"
job 12 prolog --stacks "$T/secret.tar.lz4" || fail "a job's unreadable archive must not fail the node"
grep -q "Permission denied" "$ROOT/shmstack-$U/.jobs/12/.prolog.json" || fail "the record does not say Permission denied"
[[ -z $(ls "$ROOT/shmstack-$U" | grep src-) ]] || fail "installed from an archive the user cannot read"

# A user root that belongs to someone else, or is root's symlink: set aside
# as root (e2e.squatted_root has the details), never written into or through.
rm -rf "$ROOT/shmstack-$U"
mkdir -p "$ROOT/shmstack-$U"; chown 1:1 "$ROOT/shmstack-$U"
rc=0; job 13 prolog --stacks "$T/a.tar.lz4" 2>"$T/err" || rc=$?
((rc == 0)) || { cat "$T/err"; fail "a foreign-owned user root: exit $rc"; }
[[ -z $(ls -A "$ROOT"/shmstack-$U.squatted-by-1-*) ]] || fail "wrote into a foreign-owned root"
rm -rf "$ROOT/shmstack-$U" "$ROOT"/shmstack-$U.squatted-*
mkdir -p "$T/elsewhere"; chmod 777 "$T/elsewhere"; ln -s "$T/elsewhere" "$ROOT/shmstack-$U"
rc=0; job 14 prolog --stacks "$T/a.tar.lz4" 2>"$T/err" || rc=$?
((rc == 0)) || { cat "$T/err"; fail "a symlinked user root: exit $rc"; }
grep -q "set aside '$ROOT/shmstack-$U', a symlink of uid 0" "$T/err" || { cat "$T/err"; fail "the symlinked root was not set aside"; }
[[ -z $(ls -A "$T/elsewhere") ]] || fail "wrote through the symlinked root"
echo "privilege ok"
