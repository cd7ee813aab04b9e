# An archive path that is not a regular file is refused at once by every
# command and hook that reads archives: a FIFO with no writer would otherwise
# block open() forever (info, unpack, bcast, the TaskProlog and the root
# Prolog hung). Each run is under `timeout`, so a regression fails instead of
# hanging. A FIFO planted among the user's own records (a stack's manifest)
# does not hang `list` or the Epilog either.
source "$(dirname "$0")/lib.bash"
need_tool timeout
mkdir -p "$T/src"; echo x >"$T/src/f"
"$S" pack "$T/src" -o "$T/a.tar.lz4" -q
mkfifo "$T/x.tar.lz4"
U=$(id -u) G=$(id -g)
job() { env SLURM_JOB_ID="$1" SLURM_JOB_UID="$U" SLURM_JOB_GID="$G" "${@:2}"; }
jobenv() { echo SLURM_JOB_ID="$1" SLURM_JOB_UID="$U" SLURM_JOB_GID="$G"; }
refused() {  # refused CMD...: exit 1 within the timeout, naming the FIFO
  local rc=0
  timeout -k 5 20 "$@" >"$T/out" 2>"$T/err" || rc=$?
  [[ $rc -ne 124 ]] || fail "hung on a FIFO: $*"
  [[ $rc -eq 1 ]] || { cat "$T/err"; fail "exit $rc, not 1: $*"; }
  grep -q "cannot read archive '$T/x.tar.lz4': not a regular file (a FIFO)" "$T/err" || { cat "$T/err"; fail "no clear error: $*"; }
}
refused "$S" info "$T/x.tar.lz4"
refused "$S" unpack "$T/x.tar.lz4"
refused env -u SLURM_NTASKS "$S" bcast "$T/x.tar.lz4"
refused env $(jobenv 1) SHMSTACK_STACKS="$T/x.tar.lz4" "$S" slurm task-prolog
grep -qx "print shmstack: error: cannot read archive '$T/x.tar.lz4': not a regular file (a FIFO)" "$T/out" ||
  { cat "$T/out"; fail "the task-prolog printed no error for the task"; }
# The Prolog records the failure for the job (exit 0: not the node's fault).
rc=0; timeout -k 5 20 env SLURM_JOB_ID=2 SLURM_JOB_UID="$U" SLURM_JOB_GID="$G" "$S" slurm prolog --stacks "$T/x.tar.lz4" 2>"$T/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$T/err"; fail "prolog on a FIFO: exit $rc"; }
grep -q "not a regular file (a FIFO)" "$ROOT/shmstack-$U/.jobs/2/.prolog.json" || fail "the prolog recorded no error"
job 2 "$S" slurm epilog 2>/dev/null || fail "epilog of job 2"
# Devices and directories too.
expect_fail 1 "cannot read archive '/dev/zero': not a regular file \(a character device\)" "$S" unpack /dev/zero
no_leftovers

# A FIFO as an installed stack's manifest, made by the user: list and the
# Epilog skip it instead of waiting for a writer.
"$S" unpack "$T/a.tar.lz4" -q >/dev/null
stack=$(ls -d "$ROOT/shmstack-$U"/src-*)
rm "$stack/.shmstack/manifest.json"; mkfifo "$stack/.shmstack/manifest.json"
rc=0; timeout -k 5 20 "$S" list >/dev/null 2>&1 || rc=$?
[[ $rc -ne 124 ]] || fail "list hung on a FIFO manifest"
rc=0; timeout -k 5 20 env SLURM_JOB_ID=3 SLURM_JOB_UID="$U" SLURM_JOB_GID="$G" "$S" slurm epilog --purge-user 2>"$T/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$T/err"; fail "epilog with a FIFO manifest: exit $rc (124: hung)"; }
# ... and a FIFO where the Prolog records a job's claim on the stack.
mkdir -p "$ROOT/shmstack-$U/.jobs/4"; mkfifo "$ROOT/shmstack-$U/.jobs/4/$(basename "$stack")"
"$S" rm src >/dev/null 2>&1 || true
rc=0; timeout -k 5 20 env SLURM_JOB_ID=4 SLURM_JOB_UID="$U" SLURM_JOB_GID="$G" "$S" slurm prolog --stacks "$T/a.tar.lz4" 2>"$T/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$T/err"; fail "prolog with a FIFO claim: exit $rc (124: hung)"; }
echo "fifo archive ok"
