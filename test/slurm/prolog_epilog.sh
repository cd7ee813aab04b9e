# The Prolog/Epilog path: the job comment names the archive; the stack is on
# every node when the batch script starts, owned by the job's user, and the
# tasks import from it; it is gone from every node after the job. The
# Prolog reads archives as the user (one only root may read fails the job).
# A stack that another running job also uses stays until that job ends.
# With SHMSTACK_EPILOG_PURGE_USER=1 the Epilog also removes the user's own
# stacks when the user has no other job on the node.
source "$(dirname "$0")/lib.bash"

cat >"$W/job.sbatch" <<'JOB'
#!/bin/bash
set -euo pipefail
srun -N3 -n3 bash -c 'for d in /dev/shm/shmstack-*/sci-*; do echo "present $(hostname) $(stat -c %U "$d") $d"; done'
srun -N3 -n3 python3 -c 'import numpy, socket; print("import", socket.gethostname(), numpy.__file__)'
JOB
job=$(submit present -N3 --comment "nightly; shmstack=$ARCH/sci.tar.lz4" "$W/job.sbatch")
[[ $(cat "$W/present.rc") == 0 ]] || { show present; fail "job $job failed"; }
stack="/dev/shm/shmstack-$TUID/sci-[0-9a-f]{12}"
[[ $(grep -cE "^present node[1-3] $TUSER $stack$" "$W/present.out") == 3 ]] ||
  { show present; fail "the stack was not on every node, owned by $TUSER, when the job started"; }
[[ $(grep -cE "^import node[1-3] $stack/numpy/__init__\.py$" "$W/present.out") == 3 ]] ||
  { show present; fail "the tasks did not import numpy from the stack"; }
wait_gone node1 node2 node3
echo "Prolog installed for job $job on 3 nodes as $TUSER; Epilog removed it"

job=$(submit prolog --mem=500M --comment "shmstack=$ARCH/sci.tar.lz4" "$EXAMPLES/prolog.sbatch")
[[ $(cat "$W/prolog.rc") == 0 ]] || { show prolog; fail "prolog.sbatch (job $job) failed"; }
check_app prolog 6
wait_gone node1 node2 node3
echo "prolog.sbatch: 6 tasks import from /dev/shm"

# Privileges are dropped before the archive is opened.
job=$(submit rootonly -N2 --comment "shmstack=$ARCH/root-only.tar.lz4" --wrap 'echo should-not-run')
[[ $(cat "$W/rootonly.rc") != 0 ]] || { show rootonly; fail "job $job ran with an archive only root may read"; }
grep -q "shmstack: error: .*root-only.tar.lz4.*Permission denied" "$W/rootonly.out" || { show rootonly; fail "no clear error"; }
! grep -q should-not-run "$W/rootonly.out" || fail "the batch script ran"
no_partial node1 node2
echo "an archive only root may read: job $job failed with 'Permission denied'"

# Two jobs on node1 with the same stack: the first to end leaves it to the other.
long=$(cd "$W" && as_user sbatch --parsable -w node1 -o "$W/long.out" --comment "shmstack=$ARCH/sci.tar.lz4" \
  --wrap "touch $W/long.started; sleep 30")
for _ in $(seq 100); do [[ -e $W/long.started ]] && break; sleep 0.1; done
[[ -e $W/long.started ]] || fail "job $long did not start"
short=$(submit short -w node1 --comment "shmstack=$ARCH/sci.tar.lz4" --wrap 'true')
[[ $(cat "$W/short.rc") == 0 ]] || { show short; fail "job $short failed"; }
sleep 1
[[ -n $(stacks_on node1) ]] || fail "job $short's Epilog removed a stack job $long still uses"
scancel "$long"
wait_gone node1
echo "shared stack: kept after job $short, removed after job $long"

# The user's own stacks (installed outside any job) stay, unless the admin
# asks the Epilog to purge them.
on_node node1 setpriv --reuid="$TUSER" --regid="$TUSER" --init-groups "$S" unpack -q "$ARCH/sci.tar.lz4" >/dev/null
job=$(submit keep -w node1 --wrap true)
sleep 1
[[ -n $(stacks_on node1) ]] || fail "job $job's Epilog removed a stack no job installed"
cp "$LAB/etc/shmstack-hooks.conf" "$W/hooks.conf.saved"
trap 'cp "$W/hooks.conf.saved" "$LAB/etc/shmstack-hooks.conf"; rm -rf "$W"' EXIT
echo "SHMSTACK_EPILOG_PURGE_USER=1" >>"$LAB/etc/shmstack-hooks.conf"
job=$(submit purge -w node1 --wrap true)
wait_gone node1
nodes_idle
echo "purge-user: the user's own stack stayed after a job, and went with SHMSTACK_EPILOG_PURGE_USER=1"
