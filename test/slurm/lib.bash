# Helpers for the Slurm scenarios, which run on the lab that lab_up.sh
# started (scripts/slurm-lab: slurmctld and slurmd nodes in namespaces, the
# shmstack hooks as Prolog, Epilog and TaskProlog). Source it first.
# Gives: $S (shmstack), $LAB (the lab's state dir), $ARCH (the test archives,
# made by lab_up.sh), $TUSER and helpers. Prints SKIP when no lab is up.
set -euo pipefail
S=${SHMSTACK:?set SHMSTACK to the shmstack binary}
LAB=${SHMSTACK_TEST_LAB:-/tmp/shmstack-lab-ctest}
ARCH=$LAB/shared/archives

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 0; }

if [[ -f $LAB/skipped ]]; then skip "$(cat "$LAB/skipped")"; fi
[[ -f $LAB/run/lab.env ]] || fail "no Slurm lab in $LAB (the slurm.lab_up test starts it)"
. "$LAB/run/lab.env"
. "$LAB/env.sh"
# A job_container/tmpfs lab runs its own copy of the binary (jobs cannot see a
# build tree under /tmp): the tests use the same one.
if [[ ${JOB_CONTAINER:-none} == tmpfs && -x $LAB/bin/shmstack ]]; then S=$LAB/bin/shmstack; fi
TUID=$(id -u "$TUSER")
cd "$LAB/shared"
W=$(mktemp -d "$LAB/shared/$(basename "$0" .sh).XXXXXX")
chmod 0777 "$W"
trap 'rm -rf "$W"' EXIT

# as_user CMD...: CMD as the lab's test user (Slurm jobs run as this user).
as_user() {
  setpriv --reuid="$TUSER" --regid="$TUSER" --init-groups \
    env -i PATH="$(dirname "$S")":/usr/local/bin:/usr/bin:/bin HOME=/tmp SLURM_CONF="$SLURM_CONF" "$@"
}

# What the shipped examples expect from a site, given to every job: the PMI
# plugin srun gives shmstack's MPI steps (SHMSTACK_SRUN_MPI, which a site's
# module sets: that of the MPI shmstack is built with), and a 'module'
# command (an exported function, as Lmod's reaches batch jobs) that knows
# 'module load shmstack' and nothing else (shmstack is on the job's PATH).
JOB_ENV=(SHMSTACK_SRUN_MPI="${SRUN_MPI:-pmi2}"
  'BASH_FUNC_module%%=() {  [[ "$*" == "load shmstack" ]] || { echo "module: no module for: $*" >&2; return 1; }
}')

# submit NAME SBATCH-ARGS...: sbatch as the test user, output in $W/NAME.out;
# waits for the job to end (polling: sbatch --wait polls every few seconds)
# and prints its id. The job's exit code is in $W/NAME.rc; STACK, if set, is
# passed to the job.
submit() {
  local name=$1; shift
  local id state
  id=$(cd "$W" && as_user "${JOB_ENV[@]}" ${STACK:+STACK="$STACK"} sbatch --parsable -o "$W/$name.out" "$@") ||
    fail "sbatch $* failed"
  id=${id%%;*}
  for _ in $(seq 1200); do
    state=$(scontrol -o show job "$id" | grep -o 'JobState=[A-Z_]*' || true)
    case $state in JobState=PENDING | JobState=RUNNING | JobState=CONFIGURING | JobState=COMPLETING | "") sleep 0.1 ;; *) break ;; esac
  done
  [[ $state == JobState=COMPLETED ]] && echo 0 >"$W/$name.rc" || echo 1 >"$W/$name.rc"
  echo "$id"
}

# on_node NODE CMD...: CMD in that node's namespaces (as root).
on_node() { "$LAB/bin/on-node" "$@"; }

# user_root_listing NODE: the test user's stack root on NODE, one name per line.
user_root_listing() { on_node "$1" sh -c "ls -A /dev/shm/shmstack-$TUID 2>/dev/null" || true; }

# stacks_on NODE: installed stack directories of the test user on NODE.
stacks_on() { user_root_listing "$1" | grep -v '^\.' || true; }

# wait_gone NODE...: the test user's stacks leave every NODE (the Epilog
# runs just after the job leaves the queue), in 15 s at most.
wait_gone() {
  local node
  for node in "$@"; do
    for _ in $(seq 150); do [[ -z $(stacks_on "$node") ]] && break; sleep 0.1; done
    [[ -z $(stacks_on "$node") ]] || fail "stacks left on $node after the job: $(stacks_on "$node" | tr '\n' ' ')"
  done
}

# no_partial NODE...: no stack, staging or removal directory of the test
# user on any NODE.
no_partial() {
  local node
  for node in "$@"; do
    [[ -z $(user_root_listing "$node" | grep -E -v '^\.(jobs|locks)$' || true) ]] ||
      fail "left on $node: $(user_root_listing "$node" | tr '\n' ' ')"
  done
}

# nodes_idle: no node drained or down (a failing Prolog or Epilog drains).
nodes_idle() {
  local bad
  bad=$(sinfo -h -N -t drain,drained,draining,down,fail -o '%N %T' | sort -u)
  [[ -z $bad ]] || fail "nodes not healthy: $bad"
}

# The program the shipped examples (scripts/slurm/examples) run: its host and
# where numpy and scipy came from.
EXAMPLES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts/slurm/examples" && pwd)
cat >"$W/app.py" <<'PY'
import socket, numpy, scipy.optimize
print("app", socket.gethostname(), numpy.__file__, scipy.__file__)
PY

# check_app NAME TASKS: NAME.out has TASKS lines from app.py, from all 3
# nodes, every module from the test user's stack in /dev/shm.
check_app() {
  local lines hosts stack="/dev/shm/shmstack-$TUID/sci-[0-9a-f]{12}"
  lines=$(grep "^app " "$W/$1.out" || true)
  [[ -n $lines && $(wc -l <<<"$lines") == "$2" ]] || { show "$1"; fail "$1: expected $2 tasks"; }
  hosts=$(awk '{print $2}' <<<"$lines" | sort -u | tr '\n' ' ')
  [[ $hosts == "node1 node2 node3 " ]] || { show "$1"; fail "$1: ran on $hosts"; }
  if grep -Ev "^app node[1-3] $stack/numpy/__init__\.py $stack/scipy/__init__\.py$" <<<"$lines"; then
    show "$1"
    fail "$1: a module came from outside the stack"
  fi
}

show() { echo "--- $W/$1.out"; cat "$W/$1.out" 2>/dev/null || true; }
