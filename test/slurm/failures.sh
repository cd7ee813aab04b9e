# Failures: a missing and a corrupt archive, through the Prolog (job
# comment) and through the TaskProlog (SHMSTACK_STACKS). The job fails with
# a clear message in its output, its commands do not run, nothing partial
# is left on any node, and no node is drained. The shipped pre-step example
# with a corrupt archive stops before its application step. A job that asks for nothing
# is unaffected.
source "$(dirname "$0")/lib.bash"

expect_job_failure() {  # NAME REGEX
  [[ $(cat "$W/$1.rc") != 0 ]] || { show "$1"; fail "$1: the job succeeded"; }
  grep -Eq "$2" "$W/$1.out" || { show "$1"; fail "$1: no message matching /$2/ in the job's output"; }
  ! grep -q should-not-run "$W/$1.out" || { show "$1"; fail "$1: the job's command ran"; }
  no_partial node1 node2 node3
  echo "$1: $(grep -m1 'shmstack: error' "$W/$1.out")"
}

submit missing -N3 --comment "shmstack=$ARCH/missing.tar.lz4" --wrap 'echo should-not-run' >/dev/null
expect_job_failure missing "shmstack: error: .*missing\.tar\.lz4.*No such file or directory"

submit corrupt -N3 --comment "shmstack=$ARCH/corrupt.tar.lz4" --wrap 'echo should-not-run' >/dev/null
expect_job_failure corrupt "shmstack: error: .*corrupt\.tar\.lz4"

cat >"$W/task.sbatch" <<JOB
#!/bin/bash
SHMSTACK_STACKS=$ARCH/corrupt.tar.lz4 srun -N3 -n3 echo should-not-run
JOB
submit task_corrupt -N3 "$W/task.sbatch" >/dev/null
expect_job_failure task_corrupt "shmstack: error: .*corrupt\.tar\.lz4"

# The pre-step example with a corrupt archive: the batch script stops at the
# broadcast (its eval fails), the application step never starts, and
# shmstack's message is in the job's output.
job=$(STACK=$ARCH/corrupt.tar.lz4 submit prestep_corrupt --mem=500M "$EXAMPLES/prestep.sbatch")
[[ $(cat "$W/prestep_corrupt.rc") != 0 ]] || { show prestep_corrupt; fail "prestep_corrupt: the job succeeded"; }
grep -Eq "shmstack: error: .*corrupt\.tar\.lz4" "$W/prestep_corrupt.out" || { show prestep_corrupt; fail "prestep_corrupt: no shmstack error in the job's output"; }
! grep -q "^app " "$W/prestep_corrupt.out" || { show prestep_corrupt; fail "prestep_corrupt: the application step ran"; }
! grep -q "app\.py" "$W/prestep_corrupt.out" || { show prestep_corrupt; fail "prestep_corrupt: the application step was started"; }
no_partial node1 node2 node3
echo "prestep with a corrupt archive (job $job) stopped before the application: $(grep -m1 'shmstack: error' "$W/prestep_corrupt.out")"

out=$(cd "$W" && as_user env SHMSTACK_STACKS="$ARCH/missing.tar.lz4" srun -N2 echo should-not-run 2>&1) &&
  fail "srun with a missing archive succeeded"
grep -q "shmstack: error: .*missing\.tar\.lz4.*No such file" <<<"$out" || fail "no clear error: $out"
! grep -q should-not-run <<<"$out" || fail "the task ran"
no_partial node1 node2 node3
echo "srun with a missing archive: $(grep -m1 'shmstack: error' <<<"$out")"

job=$(submit nothing -N3 --wrap 'srun -N3 hostname')
[[ $(cat "$W/nothing.rc") == 0 ]] || { show nothing; fail "job $job asked for nothing and failed"; }
[[ $(sort -u "$W/nothing.out" | tr '\n' ' ') == "node1 node2 node3 " ]] || { show nothing; fail "unexpected output"; }
nodes_idle
echo "a job that asked for nothing ran as usual; no node drained"
