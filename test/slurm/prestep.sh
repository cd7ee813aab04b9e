# The shipped sbatch examples that need nothing from the site
# (scripts/slurm/examples): the pre-step (bcast --print-env, eval, srun),
# the MPI-program form (bcast step, then shmstack exec) and the non-MPI form
# (shmstack run). Each runs on 3 nodes as the test user; every task imports
# numpy and scipy from /dev/shm (module.__file__, per host); after each job
# the Epilog has removed the stack from every node.
source "$(dirname "$0")/lib.bash"

# The examples run as shipped: SHMSTACK_SRUN_MPI (lib.bash: JOB_ENV) gives
# shmstack's steps the PMI of the MPI it is built with; --mem on the command
# line (the lab's nodes have 1000 MB) overrides theirs.
for example in prestep mpi-program run; do
  job=$(STACK=$ARCH/sci.tar.lz4 submit "$example" --mem=500M "$EXAMPLES/$example.sbatch")
  [[ $(cat "$W/$example.rc") == 0 ]] || { show "$example"; fail "$example.sbatch (job $job) failed"; }
  check_app "$example" 6
  wait_gone node1 node2 node3
  echo "$example.sbatch: 6 tasks on 3 nodes import numpy and scipy from /dev/shm; removed after job $job"
done
nodes_idle
