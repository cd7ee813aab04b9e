# The shipped examples beyond the pre-step (scripts/slurm/examples), as the
# test user, with the lab's archive of numpy and scipy:
# - gpu.sbatch: one install per node, every rank of the node started from it
#   under shmstack exec. The lab has no GPUs: its copy drops the
#   --gpus-per-node line and is submitted with 2 tasks per node, 1 CPU each
#   and 500 MB (command-line options override the script's #SBATCH lines);
#   the rest runs as shipped.
# - cleanup.sbatch (sites without the Epilog), while another job of the user
#   on node1 runs a program from the same stack under shmstack exec: the
#   cleanup removes the stack from node2 and node3, refuses on node1 ("in
#   use"), the job (1 task per node here) still succeeds, and the other job's program, importing
#   after the cleanup, still finds every module. Its Epilog then removes it.
# - array.sbatch: 4 tasks of an array on node1, 2 at a time, made to overlap:
#   every task imports from the stack, a later one reuses the install of an
#   earlier one, no task's cleanup runs while another task of the array is
#   on the node ("in use"), and one removes it.
source "$(dirname "$0")/lib.bash"

# --- gpu.sbatch ---------------------------------------------------------------
sed '/^#SBATCH --gpus-per-node/d' "$EXAMPLES/gpu.sbatch" >"$W/gpu.sbatch"
cp "$W/app.py" "$W/train.py"
job=$(STACK=$ARCH/sci.tar.lz4 submit gpu -N3 --ntasks-per-node=2 --cpus-per-task=1 --mem=500M "$W/gpu.sbatch")
[[ $(cat "$W/gpu.rc") == 0 ]] || { show gpu; fail "gpu.sbatch (job $job) failed"; }
check_app gpu 6
for node in node1 node2 node3; do
  [[ $(grep "^app $node " "$W/gpu.out" | awk '{print $3}' | sort -u | wc -l) == 1 ]] ||
    { show gpu; fail "gpu.sbatch: the ranks on $node did not share one install"; }
done
wait_gone node1 node2 node3
echo "gpu.sbatch (without GPUs): 2 ranks per node on 3 nodes from one install per node; removed after job $job"

# --- cleanup.sbatch, beside another job on node1 --------------------------------
cat >"$W/long.sbatch" <<JOB
#!/bin/bash
set -euo pipefail
shmstack unpack "\$STACK"
shmstack exec "\$STACK" -- python3 -c '
import os, socket, time
open("$W/long.started", "w").close()
while not os.path.exists("$W/long.go"): time.sleep(0.1)
import numpy, scipy.optimize
print("long", socket.gethostname(), numpy.__file__, scipy.__file__)'
JOB
long=$(cd "$W" && as_user "${JOB_ENV[@]}" STACK="$ARCH/sci.tar.lz4" sbatch --parsable -w node1 --mem=400M \
  -o "$W/long.out" "$W/long.sbatch") || fail "sbatch long.sbatch failed"
trap 'scancel "$long" 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 300); do [[ -e $W/long.started ]] && break; sleep 0.1; done
[[ -e $W/long.started ]] || { show long; fail "job $long did not start its program"; }

# (One task per node: the other job holds one of node1's 2 CPUs.)
job=$(STACK=$ARCH/sci.tar.lz4 submit cleanup --ntasks-per-node=1 --mem=400M "$EXAMPLES/cleanup.sbatch")
[[ $(cat "$W/cleanup.rc") == 0 ]] || { show cleanup; fail "cleanup.sbatch (job $job) failed"; }
check_app cleanup 3
stack="/dev/shm/shmstack-$TUID/sci-[0-9a-f]{12}"
[[ -n $(stacks_on node1) ]] || fail "job $job removed the stack job $long still uses on node1"
touch "$W/long.go"
for _ in $(seq 300); do squeue -h -j "$long" 2>/dev/null | grep -q . || break; sleep 0.1; done
grep -qE "^long node1 $stack/numpy/__init__\.py $stack/scipy/__init__\.py$" "$W/long.out" ||
  { show long; fail "job $long lost its stack to job $job's cleanup"; }
[[ $(grep -cE "^shmstack: removed $stack$" "$W/cleanup.out") == 2 ]] ||
  { show cleanup; fail "cleanup.sbatch: its cleanup step did not remove the stack from node2 and node3"; }
grep -qE "^shmstack: error: cannot remove '$stack': in use by pid [0-9]+" "$W/cleanup.out" ||
  { show cleanup; fail "cleanup.sbatch: no 'in use' refusal for the stack job $long uses on node1"; }
wait_gone node1 node2 node3
echo "cleanup.sbatch: removed its stack from node2 and node3, kept it on node1 for job $long, which imported from it after"

# --- array.sbatch ---------------------------------------------------------------
# Each task's program waits until two tasks have started it; the odd ones
# then stay 2 s longer, so the first to end does while another still runs.
mkdir -m 0777 "$W/array"
cat >"$W/array/app.py" <<'PY'
import os, socket, sys, time
here = os.path.dirname(os.path.abspath(__file__))
open(os.path.join(here, "started." + sys.argv[1]), "w").close()
deadline = time.time() + 30
while sum(f.startswith("started.") for f in os.listdir(here)) < 2 and time.time() < deadline:
    time.sleep(0.1)
time.sleep(2 * (int(sys.argv[1]) % 2))
import numpy, scipy.optimize
print("app", socket.gethostname(), numpy.__file__, scipy.__file__)
PY
array=$(cd "$W/array" && as_user "${JOB_ENV[@]}" STACK="$ARCH/sci.tar.lz4" sbatch --parsable --array=0-3 -w node1 \
  --cpus-per-task=1 --mem=400M -o "$W/array/task-%a.out" "$EXAMPLES/array.sbatch") || fail "sbatch array.sbatch failed"
for _ in $(seq 1200); do squeue -h -j "$array" 2>/dev/null | grep -q . || break; sleep 0.1; done
states=$(scontrol -o show job "$array" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' ')
out=$(cat "$W"/array/task-*.out)
[[ $states == " 4 JobState=COMPLETED" ]] || { echo "$out"; fail "array.sbatch (job $array): $states"; }
[[ $(grep -cE "^app node1 $stack/numpy/__init__\.py $stack/scipy/__init__\.py$" <<<"$out") == 4 ]] ||
  { echo "$out"; fail "array.sbatch: not every task imported from the stack"; }
grep -q "^shmstack: sci is already installed in " <<<"$out" || { echo "$out"; fail "array.sbatch: no task reused another's install"; }
! grep -q "in use" <<<"$out" || { echo "$out"; fail "array.sbatch: a task's cleanup ran while another task used the stack"; }
grep -qE "^shmstack: removed $stack$" <<<"$out" || { echo "$out"; fail "array.sbatch: no task removed the stack"; }
wait_gone node1
[[ -z $(user_root_listing node1 | grep '^\.array-') ]] || fail "array.sbatch left its lock file on node1"
nodes_idle
grep -hE "^shmstack: (installed|sci is already|removed) " "$W"/array/task-*.out | cut -c1-100
echo "array.sbatch: 4 tasks on node1 shared one install; the last to leave removed it (job $array)"
