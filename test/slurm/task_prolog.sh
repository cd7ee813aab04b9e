# The TaskProlog path: SHMSTACK_STACKS in the environment of an unchanged
# srun command; 6 tasks on 3 nodes import numpy from the stack; on each node
# exactly one task installed it and the other reused it (the TaskProlog's
# log); the Epilog removes it. Then the shipped task-prolog.sbatch example.
source "$(dirname "$0")/lib.bash"

log=$LAB/log/user/task-prolog.log
before=$(wc -l <"$log" 2>/dev/null || echo 0)
out=$(cd "$W" && as_user env SHMSTACK_STACKS="$ARCH/sci.tar.lz4" srun -N3 -n6 \
  python3 -c 'import numpy, os, socket; print(socket.gethostname(), numpy.__file__, os.environ["SLURM_JOB_ID"])') ||
  fail "srun with SHMSTACK_STACKS failed: $out"
echo "$out"
job=$(awk '{print $3}' <<<"$out" | sort -u)
[[ $(wc -l <<<"$out") == 6 ]] || fail "expected 6 tasks"
[[ $(awk '{print $1}' <<<"$out" | sort -u | tr '\n' ' ') == "node1 node2 node3 " ]] || fail "not on 3 nodes"
if grep -Ev "^node[1-3] /dev/shm/shmstack-$TUID/sci-[0-9a-f]{12}/numpy/__init__\.py $job$" <<<"$out"; then
  fail "numpy did not come from the stack"
fi

lines=$(tail -n +"$((before + 1))" "$log" | grep " job $job task-prolog\]" || true)
echo "$lines"
for node in node1 node2 node3; do
  [[ $(grep -c "^\[$node job $job task-prolog\] shmstack: installed " <<<"$lines") == 1 ]] ||
    fail "$node: not installed exactly once"
  [[ $(grep -c "^\[$node job $job task-prolog\] shmstack: reusing " <<<"$lines") == 1 ]] ||
    fail "$node: the second task did not reuse the stack"
done
wait_gone node1 node2 node3

job=$(STACK=$ARCH/sci.tar.lz4 submit task-prolog --mem=500M "$EXAMPLES/task-prolog.sbatch")
[[ $(cat "$W/task-prolog.rc") == 0 ]] || { show task-prolog; fail "task-prolog.sbatch (job $job) failed"; }
check_app task-prolog 6
wait_gone node1 node2 node3
echo "task-prolog.sbatch: 6 tasks import from /dev/shm"
nodes_idle
echo "TaskProlog: installed once per node, 6 tasks import from /dev/shm; removed after job $job"
