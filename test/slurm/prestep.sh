# The sbatch pre-step, as the README shows it: one task per node broadcasts
# the stack and prints its activation, the batch shell evals it, and every
# srun step after it imports numpy and scipy from /dev/shm on all 3 nodes
# (each task reports module.__file__ and its host). Also the MPI-program form
# (shmstack exec in a step) and the non-MPI form (shmstack run). The Epilog
# removes what the job installed, from every node.
source "$(dirname "$0")/lib.bash"

cat >"$W/job.sbatch" <<JOB
#!/bin/bash
#SBATCH -N 3
#SBATCH --ntasks-per-node=2
set -euo pipefail
eval "\$(srun --mpi=pmi2 --ntasks-per-node=1 $S bcast --print-env $ARCH/sci.tar.lz4)"
srun -N3 -n6 python3 -c 'import numpy, scipy.optimize, socket; print("step", socket.gethostname(), numpy.__file__, scipy.__file__)'
srun --mpi=pmi2 -N3 -n3 $S exec sci -- python3 -c 'import numpy, socket; print("exec", socket.gethostname(), numpy.__file__)'
srun --mpi=pmi2 -N3 -n3 $S run $ARCH/sci.tar.lz4 -- python3 -c 'import scipy, socket; print("run", socket.gethostname(), scipy.__file__)'
echo "job done"
JOB
job=$(submit prestep "$W/job.sbatch")
[[ $(cat "$W/prestep.rc") == 0 ]] || { show prestep; fail "the pre-step job $job failed"; }
grep -qx "job done" "$W/prestep.out" || { show prestep; fail "the job did not finish"; }

stack="/dev/shm/shmstack-$TUID/sci-[0-9a-f]{12}"
check_form() {  # FORM TASKS: TASKS lines from 3 hosts, every module from the stack
  local form=$1 tasks=$2 lines hosts
  lines=$(grep "^$form " "$W/prestep.out" || true)
  [[ $(wc -l <<<"$lines") == "$tasks" ]] || { show prestep; fail "$form: expected $tasks tasks"; }
  hosts=$(awk '{print $2}' <<<"$lines" | sort -u | tr '\n' ' ')
  [[ $hosts == "node1 node2 node3 " ]] || { show prestep; fail "$form: ran on $hosts"; }
  if grep -Ev "^$form node[1-3]( $stack/(numpy|scipy)/__init__\.py)+$" <<<"$lines"; then
    show prestep
    fail "$form: a module came from outside the stack"
  fi
}
check_form step 6
check_form exec 3
check_form run 3
wait_gone node1 node2 node3
nodes_idle
echo "pre-step: numpy and scipy from /dev/shm on 3 nodes (srun, exec, run); removed after job $job"
