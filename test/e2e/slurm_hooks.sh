# The Slurm hooks without Slurm: 'shmstack slurm task-prolog|prolog|epilog'
# given the environment slurmd gives them (the real cluster is test/slurm).
#  - nothing asked: no output, no file created;
#  - task-prolog installs SHMSTACK_STACKS once and prints literal 'export'
#    lines that make Python import from the stack; a failure prints 'print'
#    lines (Slurm writes them to the task's output) and exits 1;
#  - prolog installs the job comment's stacks and records the outcome, which
#    the task-prolog applies or reports; it exits 0 for a job's bad archive;
#  - epilog removes what the job installed unless another job claims it;
#  - prolog refuses to act for another user unless it is root; on an unsafe
#    user root (a state the user can create) the hooks log and exit 0, and
#    the job's steps fail saying what to do.
source "$(dirname "$0")/lib.bash"
# The exports are checked exactly: no PYTHONPATH inherited from the caller
# (a build environment such as Spack's may set one).
unset PYTHONPATH PYTHONHOME
source "$E2E_DIR/make_tree.bash"
make_tree "$T/src"
mkdir -p "$T/src/hookpkg" && echo 'WHERE = __file__' >"$T/src/hookpkg/__init__.py"
"$S" pack "$T/src" -o "$T/a.tar.lz4" --name hooks -q
U=$(id -u) G=$(id -g)
job() { env SLURM_JOB_ID="$1" SLURM_JOB_UID="$U" SLURM_JOB_GID="$G" "${@:2}"; }

# Nothing asked.
out=$(job 1 "$S" slurm task-prolog) || fail "task-prolog with nothing asked failed"
[[ -z $out ]] || fail "task-prolog with nothing asked printed: $out"
job 1 "$S" slurm prolog || fail "prolog with nothing asked failed"
job 1 "$S" slurm epilog || fail "epilog with nothing asked failed"
[[ -z $(ls -A "$ROOT") ]] || fail "a job that asked for nothing left $(ls -A "$ROOT")"

# TaskProlog: install, then the export lines activate the stack.
job 2 env SHMSTACK_STACKS="$T/missing.tar.lz4:$T/a.tar.lz4" "$S" slurm task-prolog >"$T/out" 2>"$T/err" && fail "missing archive accepted"
grep -qx "print shmstack: error: cannot open archive '$T/missing.tar.lz4': No such file or directory" "$T/out" ||
  { cat "$T/out"; fail "no print line for the error"; }
grep -q "shmstack: error: cannot open archive" "$T/err" || fail "no error on stderr"
no_leftovers
job 2 env SHMSTACK_STACKS="$T/a.tar.lz4" "$S" slurm task-prolog >"$T/exports" 2>"$T/err" || { cat "$T/err"; fail "task-prolog failed"; }
grep -q "installed $ROOT/shmstack-$U/hooks-" "$T/err" || fail "task-prolog did not say it installed"
grep -Eqx "export PYTHONPATH=$ROOT/shmstack-$U/hooks-[0-9a-f]{12}" "$T/exports" || { cat "$T/exports"; fail "no PYTHONPATH export"; }
grep -qx "export PYTHONNOUSERSITE=1" "$T/exports" || fail "no PYTHONNOUSERSITE export"
! grep -Ev '^export [A-Za-z_][A-Za-z0-9_]*=' "$T/exports" || fail "a line Slurm would not apply"
job 2 env SHMSTACK_STACKS="$T/a.tar.lz4" "$S" slurm task-prolog 2>"$T/err" >/dev/null
grep -q "reusing $ROOT/shmstack-$U/hooks-" "$T/err" || fail "second task did not reuse the stack"
where=$(env $(sed 's/^export //' "$T/exports") /usr/bin/python3 -c 'import hookpkg; print(hookpkg.WHERE)')
[[ $where == "$ROOT/shmstack-$U/hooks-"*/hookpkg/__init__.py ]] || fail "python imported $where"

# Prolog: job 3 asks through its comment and reuses the stack job 2 installed.
job 3 env SLURM_JOB_COMMENT="run; shmstack=$T/a.tar.lz4" "$S" slurm prolog 2>"$T/err" || fail "prolog failed"
grep -q "reusing" "$T/err" || fail "prolog did not reuse the installed stack"
job 3 "$S" slurm task-prolog >"$T/exports3" || fail "task-prolog after the prolog failed"
cmp -s "$T/exports" "$T/exports3" || fail "the prolog's stack was not activated like the task-prolog's"
# ... a bad archive fails the job, not the prolog.
job 4 env SLURM_JOB_COMMENT="shmstack=$T/missing.tar.lz4" "$S" slurm prolog 2>/dev/null || fail "prolog failed for a job's bad archive"
job 4 "$S" slurm task-prolog >"$T/out" 2>/dev/null && fail "task-prolog ignored the prolog's failure"
grep -q "^print shmstack: error: the Slurm prolog failed on .*missing.tar.lz4" "$T/out" || { cat "$T/out"; fail "no print line"; }

# Epilog: job 2 ends, job 3 still claims the stack; then job 3 ends.
job 2 "$S" slurm epilog 2>/dev/null || fail "epilog failed"
[[ -n $(ls "$ROOT/shmstack-$U" | grep '^hooks-') ]] || fail "job 2's epilog removed a stack job 3 uses"
job 3 "$S" slurm epilog 2>"$T/err" || fail "epilog failed"
grep -q "removed $ROOT/shmstack-$U/hooks-" "$T/err" || fail "epilog did not say what it removed"
[[ -z $(ls "$ROOT/shmstack-$U" | grep -v '^\.') ]] || fail "stack left after the last job's epilog"
job 4 "$S" slurm epilog || fail "epilog of the failed job"

# A user root the hooks must not use (here the user's own symlink; another
# user's entry is set aside by root: e2e.squatted_root): a job that asks for
# nothing is unaffected; the prolog of one that asks logs the reason and exits
# 0 (a failing Prolog drains the node); the job's steps fail and say what to do.
rm -rf "$ROOT/shmstack-$U"
mkdir "$T/elsewhere"
ln -s "$T/elsewhere" "$ROOT/shmstack-$U"
out=$(job 6 "$S" slurm task-prolog) && [[ -z $out ]] || fail "task-prolog with nothing asked failed on a planted root"
job 6 env SLURM_JOB_COMMENT="shmstack=$T/a.tar.lz4" "$S" slurm prolog 2>"$T/err" || fail "prolog on a planted root failed (the node would drain)"
grep -q "^\[.* job 6 prolog\] shmstack: error: unsafe stack root .*it is a symlink (refusing to follow it), owned by you: remove it" "$T/err" ||
  { cat "$T/err"; fail "no clear error"; }
job 6 "$S" slurm epilog 2>"$T/err" || fail "epilog on a planted root failed (the node would drain)"
job 7 env SHMSTACK_STACKS="$T/a.tar.lz4" "$S" slurm task-prolog >"$T/out" 2>/dev/null && fail "task-prolog installed through a planted root"
grep -q "^print shmstack: error: unsafe stack root .*: it is a symlink (refusing to follow it), owned by you: remove it, or install elsewhere with --root or SHMSTACK_ROOT" "$T/out" ||
  { cat "$T/out"; fail "the task was not told what to do"; }
[[ -z $(ls -A "$T/elsewhere") ]] || fail "the prolog wrote through the planted symlink"
[[ -L $ROOT/shmstack-$U ]] || fail "the user's own symlink was moved"
rm "$ROOT/shmstack-$U"

# The user's own root made unusable by the user (its .locks mode 000): the
# prolog and epilog log it and exit 0.
job 8 env SLURM_JOB_COMMENT="shmstack=$T/a.tar.lz4" "$S" slurm prolog 2>/dev/null || fail "prolog failed"
if [[ $U -ne 0 ]]; then  # (root is not stopped by mode 000)
  chmod 000 "$ROOT/shmstack-$U/.locks"
  job 9 env SLURM_JOB_COMMENT="shmstack=$T/a.tar.lz4" "$S" slurm prolog 2>"$T/err" || fail "prolog with .locks mode 000 failed"
  grep -q "Permission denied" "$T/err" || { cat "$T/err"; fail "prolog did not log the reason"; }
  job 8 "$S" slurm epilog 2>"$T/err" || fail "epilog with .locks mode 000 failed"
  grep -q "Permission denied" "$T/err" || { cat "$T/err"; fail "epilog did not log the reason"; }
  chmod 700 "$ROOT/shmstack-$U/.locks"
fi
job 8 "$S" slurm epilog 2>/dev/null || fail "epilog failed"

# A lock held by another of the user's processes (an install that hangs, or a
# plain 'flock'): no hook waits past --lock-wait; the prolog and epilog log
# whose lock it is and exit 0, the task is told, the stack is kept. (The wait
# is over all of a hook's stacks: under load less than the full second may be left.)
id12=$("$S" info --json "$T/a.tar.lz4" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"][:12])')
mkdir -p "$ROOT/shmstack-$U/.locks"
( exec 9>"$ROOT/shmstack-$U/.locks/$id12.lock"; flock 9; exec sleep 60 ) >/dev/null 2>&1 & holder=$!
sleep 0.3
start=$SECONDS
job 10 env SLURM_JOB_COMMENT="shmstack=$T/a.tar.lz4" "$S" slurm prolog --lock-wait 1 2>"$T/err" || fail "prolog failed on a held lock"
grep -q "cannot install stack 'hooks' on .*: another process is installing or removing it: waited [0-9][0-9]* s for '$ROOT/shmstack-$U/.locks/$id12.lock', held by pid [0-9][0-9]*" "$T/err" ||
  { cat "$T/err"; fail "prolog did not say whose lock it waited for"; }
job 10 "$S" slurm task-prolog >"$T/out" 2>/dev/null && fail "task-prolog ignored the prolog's failure"
grep -q "^print shmstack: error: the Slurm prolog failed on .*held by pid [0-9][0-9]*" "$T/out" || { cat "$T/out"; fail "the task was not told"; }
job 11 env SHMSTACK_STACKS="$T/a.tar.lz4" "$S" slurm task-prolog --lock-wait 1 >"$T/out" 2>/dev/null && fail "task-prolog installed past a held lock"
grep -q "^print shmstack: error: cannot install stack 'hooks'.*held by pid [0-9][0-9]*" "$T/out" || { cat "$T/out"; fail "task-prolog: no reason"; }
((SECONDS - start < 20)) || fail "the hooks waited $((SECONDS - start)) s on a held lock with --lock-wait 1"
kill $holder; wait $holder 2>/dev/null || true
job 12 env SLURM_JOB_COMMENT="shmstack=$T/a.tar.lz4" "$S" slurm prolog 2>/dev/null || fail "prolog failed"
( exec 9>"$ROOT/shmstack-$U/.locks/$id12.lock"; flock 9; exec sleep 60 ) >/dev/null 2>&1 & holder=$!
sleep 0.3
job 12 "$S" slurm epilog --lock-wait 1 2>"$T/err" || fail "epilog failed on a held lock"
grep -q "kept $ROOT/shmstack-$U/hooks-$id12: waited [0-9][0-9]* s for .*, held by pid [0-9][0-9]* (gc or a later Epilog removes it)" "$T/err" ||
  { cat "$T/err"; fail "epilog did not say why it kept the stack"; }
[[ -d $ROOT/shmstack-$U/hooks-$id12 ]] || fail "the epilog removed a stack whose lock is held"
kill $holder; wait $holder 2>/dev/null || true
job 12 "$S" slurm epilog 2>/dev/null || fail "epilog failed"
[[ ! -e $ROOT/shmstack-$U/hooks-$id12 ]] || fail "the epilog kept the stack once its lock was free"
expect_fail 2 "slurm epilog: --lock-wait wants 0 to 86400 seconds" env SLURM_JOB_ID=12 SLURM_JOB_UID=$U SLURM_JOB_GID=$G "$S" slurm epilog --lock-wait 86401

# Out-of-range ids (they once wrapped modulo 2^32: 4294967296 was root).
expect_fail 1 "SLURM_JOB_UID=4294967296 is out of range \(0 to 4294967294\)" \
  env SLURM_JOB_ID=5 SLURM_JOB_UID=4294967296 SLURM_JOB_GID=0 SLURM_JOB_COMMENT="shmstack=$T/a.tar.lz4" "$S" slurm prolog

# Acting for another user needs root; missing job variables are named.
if [[ $U -ne 0 ]]; then
  expect_fail 1 "cannot become uid 0 gid 0: this process is uid $U and not root" \
    env SLURM_JOB_ID=5 SLURM_JOB_UID=0 SLURM_JOB_GID=0 SLURM_JOB_COMMENT="shmstack=$T/a.tar.lz4" "$S" slurm prolog
fi
expect_fail 1 "SLURM_JOB_UID is not set" env SLURM_JOB_ID=5 "$S" slurm epilog
expect_fail 1 "SLURM_JOB_ID is not set" "$S" slurm task-prolog
echo "slurm hooks ok"
