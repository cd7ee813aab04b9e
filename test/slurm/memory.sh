# Memory limits as sites set them: TaskPlugin=task/cgroup with
# ConstrainRAMSpace=yes (the lab with LAB_TASK_CGROUP=1), so a job's --mem
# limits its memory cgroup, and pages its tasks write to /dev/shm count.
#  - TaskProlog, --mem=200M, a 320 MiB stack: refused before writing, the
#    job fails with the message (the stack, the node, both sizes, the job's
#    cgroup), nothing is left on the node, the node stays up;
#  - the same with --mem=900M: installed, charged to the job's cgroup;
#  - pre-step (srun shmstack bcast) on 2 nodes with --mem=200M: every rank
#    exits 1, rank 0 names both nodes and their cgroups;
#  - Prolog, --mem=200M, the same stack: installed (the Prolog runs in
#    slurmd's cgroup, not the job's: the job is not charged for it).
source "$(dirname "$0")/lib.bash"
[[ ${TASK_CGROUP:-0} == 1 ]] || skip "the lab runs TaskPlugin=task/none (LAB_TASK_CGROUP=1 runs task/cgroup)"
MiB=$((1 << 20))
mkdir -p "$W/big/pkg"
head -c $((320 * MiB)) /dev/zero >"$W/big/pkg/data.bin"
echo "x = 1" >"$W/big/pkg/__init__.py"
"$S" pack "$W/big" -o "$W/big.tar.lz4" -q
rm -rf "$W/big"
chmod 0644 "$W/big.tar.lz4"

# The job's step prints its memory cgroup and what is charged to the job.
cat >"$W/job.sh" <<'EOF'
#!/bin/bash
set -euo pipefail
[[ -n ${USE_TASK_PROLOG:-} ]] && export SHMSTACK_STACKS=$BIG
srun -N1 -n1 bash -c '
  path=$(grep -E "^[0-9]+:([^:]*,)?memory(,[^:]*)?:" /proc/self/cgroup | cut -d: -f3)
  mount=$(awk "{ for (i = 7; i < NF; i++) if (\$i == \"-\") { if (\$(i+1) == \"cgroup\" && \$(i+3) ~ /(^|,)memory(,|$)/) print \$5; break } }" /proc/self/mountinfo)
  job=${path%%/step_*}
  echo "cgroup $path"
  echo "charged $(cat "$mount$job/memory.usage_in_bytes") limit $(cat "$mount$job/memory.limit_in_bytes")"
  ls /dev/shm/shmstack-$(id -u)/'
EOF
chmod 0755 "$W/job.sh"

# TaskProlog, too little memory for the stack: the job fails with the message.
job=$(submit small-tp -N1 -w node1 --mem=200M --export=ALL,USE_TASK_PROLOG=1,BIG="$W/big.tar.lz4" "$W/job.sh")
[[ $(cat "$W/small-tp.rc") == 1 ]] || { show small-tp; fail "job $job with --mem=200M ran its task"; }
grep -Eq "shmstack: error: not enough memory for stack 'big' on node1: needs 320\.[0-9] MiB of memory in its tmpfs plus a 256\.0 MiB margin .*, the memory cgroup '/slurm_node1/uid_$TUID/job_$job' has [0-9.]+ MiB left \(limit 200\.0 MiB" "$W/small-tp.out" ||
  { show small-tp; fail "job $job: no message naming the stack, node1, both sizes and the job's cgroup"; }
grep -q "^charged" "$W/small-tp.out" && { show small-tp; fail "job $job: the task ran"; }
no_partial node1
nodes_idle
echo "TaskProlog, --mem=200M: refused: $(grep -o 'not enough memory.*' "$W/small-tp.out" | head -1)"

# TaskProlog with room for it: installed, charged to the job.
job=$(submit big-tp -N1 -w node1 --mem=900M --export=ALL,USE_TASK_PROLOG=1,BIG="$W/big.tar.lz4" "$W/job.sh")
[[ $(cat "$W/big-tp.rc") == 0 ]] || { show big-tp; fail "job $job with --mem=900M failed"; }
read -r _ charged _ limit < <(grep "^charged" "$W/big-tp.out")
((limit == 900 * MiB)) || { show big-tp; fail "job $job: its cgroup's limit is $limit, not its --mem"; }
((charged >= 320 * MiB)) || { show big-tp; fail "job $job: the stack ($((charged / MiB)) MiB charged) was not charged to the job"; }
grep -q "^big-" "$W/big-tp.out" || { show big-tp; fail "job $job: no stack on the node"; }
echo "TaskProlog, --mem=900M: installed, $((charged / MiB)) MiB charged to $(grep '^cgroup' "$W/big-tp.out")"
wait_gone node1

# Pre-step on two nodes, too little memory on each: every rank exits 1, rank 0
# names both nodes and their jobs' cgroups; nothing is sent or left.
cat >"$W/prestep.sh" <<'EOF'
#!/bin/bash
srun --mpi="$SHMSTACK_SRUN_MPI" -N2 --ntasks-per-node=1 shmstack bcast "$BIG"
echo "bcast rc=$?"
EOF
chmod 0755 "$W/prestep.sh"
job=$(submit prestep -N2 -w node1,node2 --mem=200M --export=ALL,BIG="$W/big.tar.lz4" "$W/prestep.sh")
grep -q "^bcast rc=1$" "$W/prestep.out" || { show prestep; fail "pre-step job $job: bcast did not exit 1"; }
for node in node1 node2; do
  grep -Eq "^\[node[12]:0\] shmstack: error: $node: not enough memory for stack 'big' on $node: needs 320\.[0-9] MiB .*, the memory cgroup '/slurm_$node/uid_$TUID/job_$job' has [0-9.]+ MiB left \(limit 200\.0 MiB" "$W/prestep.out" ||
    { show prestep; fail "pre-step job $job: rank 0 did not name $node and its cgroup"; }
  grep -q "srun: error: $node: task [01]: Exited with exit code 1" "$W/prestep.out" || { show prestep; fail "pre-step job $job: the rank on $node did not exit 1"; }
done
no_partial node1 node2
nodes_idle
echo "pre-step, --mem=200M on 2 nodes: every rank exited 1, rank 0 named both nodes"

# Prolog: installed by slurmd's Prolog, outside the job's cgroup.
job=$(submit prolog -N1 -w node1 --mem=200M --comment "shmstack=$W/big.tar.lz4" "$W/job.sh")
[[ $(cat "$W/prolog.rc") == 0 ]] || { show prolog; fail "Prolog job $job with --mem=200M failed"; }
read -r _ charged _ limit < <(grep "^charged" "$W/prolog.out")
grep -q "^big-" "$W/prolog.out" || { show prolog; fail "job $job: the Prolog did not install the stack"; }
((charged < 100 * MiB)) || { show prolog; fail "job $job: $((charged / MiB)) MiB charged to the job: the Prolog's install was"; }
echo "Prolog, --mem=200M: installed outside the job ($((charged / MiB)) MiB charged to the job)"
wait_gone node1
nodes_idle
echo "memory limits: refused under the job's limit, charged to the job from the TaskProlog, not from the Prolog"
