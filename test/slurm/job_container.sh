# Slurm's job_container/tmpfs (the lab started with --job-container tmpfs):
# each job has its own /dev/shm, in a mount namespace of its own.
#  - Prolog with the stacks in /dev/shm: the job's namespace does not exist
#    yet when the Prolog runs (Slurm 22.05), so it refuses: installs nothing
#    anywhere, logs why and what works instead; the job runs, the node stays up.
#  - Prolog where the job's namespace exists (run again for a running job, as
#    slurmd would): it enters the namespace and installs into the job's own
#    /dev/shm; a step of that job imports from it (the TaskProlog activates
#    it); the node's /dev/shm has nothing.
#  - Prolog with SHMSTACK_ROOT on a node-local tmpfs the plugin does not
#    replace: works as on a plain site; the Epilog removes the stack.
#  - the pre-step: what a job installs vanishes with the job.
source "$(dirname "$0")/lib.bash"
[[ ${JOB_CONTAINER:-none} == tmpfs ]] || skip "the lab does not run job_container/tmpfs"
hooks_log=$LAB/log/shmstack-hooks.log
stack="/dev/shm/shmstack-$TUID/sci-[0-9a-f]{12}"

# 1. The Prolog refuses.
before=0
[[ -f $hooks_log ]] && before=$(wc -l <"$hooks_log")
cat >"$W/look.sbatch" <<'JOB'
#!/bin/bash
srun -N2 -n2 bash -c 'echo "look $(hostname) $(ls -A /dev/shm | tr "\n" " ")"'
JOB
job=$(submit refused -N2 --comment "shmstack=$ARCH/sci.tar.lz4" "$W/look.sbatch")
[[ $(cat "$W/refused.rc") == 0 ]] || { show refused; fail "job $job failed"; }
[[ $(grep -c '^look node[12] $' "$W/refused.out") == 2 ]] || { show refused; fail "the job saw something in its /dev/shm"; }
log=$(tail -n +"$((before + 1))" "$hooks_log" | grep " job $job prolog\]" || true)
for node in node1 node2; do
  grep -q "^\[$node job $job prolog\] shmstack: error: cannot install for job $job on $node: job_container/tmpfs gives the job its own /dev/shm, which does not exist yet when the Prolog runs .*use the TaskProlog (SHMSTACK_STACKS) or the pre-step (srun shmstack bcast)" <<<"$log" ||
    { echo "$log"; fail "$node: the Prolog did not say why it refused"; }
done
no_partial node1 node2
[[ -z $(user_root_listing node1) ]] || fail "the Prolog wrote to node1's /dev/shm: $(user_root_listing node1)"
nodes_idle
echo "Prolog under job_container/tmpfs: refused on 2 nodes, $(grep -m1 -o 'use the TaskProlog.*' <<<"$log" | cut -c1-60)..."

# 2. The Prolog enters the job's namespace where it exists.
long=$(cd "$W" && as_user sbatch --parsable -w node1 -o "$W/long.out" --wrap "touch $W/long.started; sleep 60")
for _ in $(seq 100); do [[ -e $W/long.started ]] && break; sleep 0.1; done
[[ -e $W/long.started ]] || fail "job $long did not start"
on_node node1 env -i PATH=/usr/bin:/bin SLURM_JOB_ID="$long" SLURM_JOB_UID="$TUID" SLURM_JOB_GID="$(id -g "$TUSER")" \
  SLURM_CONF="$SLURM_CONF" SLURMD_NODENAME=node1 "$S" slurm prolog --stacks "$ARCH/sci.tar.lz4" 2>"$W/prolog.err" ||
  { cat "$W/prolog.err"; fail "the Prolog failed"; }
grep -q "job_container/tmpfs: entered the job's mount namespace (.*/node1/$long/.ns)" "$W/prolog.err" ||
  { cat "$W/prolog.err"; fail "the Prolog did not enter the job's namespace"; }
out=$(cd "$W" && as_user srun --jobid="$long" --overlap -w node1 -n1 \
  python3 -c 'import numpy, socket; print("import", socket.gethostname(), numpy.__file__)' 2>&1) ||
  fail "a step of job $long failed: $out"
grep -Eq "^import node1 $stack/numpy/__init__\.py$" <<<"$out" || fail "the step did not import from the job's /dev/shm: $out"
[[ -z $(user_root_listing node1) ]] || fail "the stack went to node1's own /dev/shm: $(user_root_listing node1)"
scancel "$long"
echo "Prolog in a running job's namespace: its step imports from the job's /dev/shm, the node's has nothing"

# 3. SHMSTACK_ROOT on a tmpfs the plugin leaves alone: the Prolog works.
cp "$LAB/etc/shmstack-hooks.conf" "$W/hooks.conf.saved"
trap 'cp "$W/hooks.conf.saved" "$LAB/etc/shmstack-hooks.conf"; rm -rf "$W"' EXIT
echo "SHMSTACK_ROOT=$LAB/node-root" >>"$LAB/etc/shmstack-hooks.conf"
cat >"$W/import.sbatch" <<'JOB'
#!/bin/bash
srun -N3 -n3 python3 -c 'import numpy, socket; print("import", socket.gethostname(), numpy.__file__)'
JOB
job=$(submit noderoot -N3 --comment "shmstack=$ARCH/sci.tar.lz4" "$W/import.sbatch")
[[ $(cat "$W/noderoot.rc") == 0 ]] || { show noderoot; fail "job $job failed"; }
[[ $(grep -cE "^import node[1-3] $LAB/node-root/shmstack-$TUID/sci-[0-9a-f]{12}/numpy/__init__\.py$" "$W/noderoot.out") == 3 ]] ||
  { show noderoot; fail "the tasks did not import from the node-local root"; }
for node in node1 node2 node3; do
  for _ in $(seq 150); do [[ -z $(on_node "$node" sh -c "ls $LAB/node-root/shmstack-$TUID 2>/dev/null | grep -v '^\.'") ]] && break; sleep 0.1; done
  [[ -z $(on_node "$node" sh -c "ls $LAB/node-root/shmstack-$TUID 2>/dev/null | grep -v '^\.'") ]] || fail "$node: the Epilog left the stack"
done
cp "$W/hooks.conf.saved" "$LAB/etc/shmstack-hooks.conf"
echo "SHMSTACK_ROOT outside /dev/shm: 3 tasks import from it, the Epilog removed it (job $job)"

# 4. The pre-step's stack is the job's: the next job on the node does not have it.
job=$(submit mine -w node1 --wrap "srun --mpi=${SRUN_MPI:-pmi2} shmstack bcast $ARCH/sci.tar.lz4 >/dev/null && ls /dev/shm/shmstack-$TUID | grep -c '^sci-'")
[[ $(cat "$W/mine.rc") == 0 && $(tail -n 1 "$W/mine.out") == 1 ]] || { show mine; fail "the pre-step did not install in job $job"; }
job=$(submit next -w node1 --wrap "ls -A /dev/shm | wc -l")
[[ $(cat "$W/next.rc") == 0 && $(tail -n 1 "$W/next.out") == 0 ]] || { show next; fail "job $job saw the previous job's /dev/shm"; }
nodes_idle
echo "pre-step: the stack lives and dies with its job"
