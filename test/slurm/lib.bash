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
TUID=$(id -u "$TUSER")
cd "$LAB/shared"
W=$(mktemp -d "$LAB/shared/$(basename "$0" .sh).XXXXXX")
chmod 0777 "$W"
trap 'rm -rf "$W"' EXIT

# as_user CMD...: CMD as the lab's test user (Slurm jobs run as this user).
as_user() {
  setpriv --reuid="$TUSER" --regid="$TUSER" --init-groups \
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp SLURM_CONF="$SLURM_CONF" "$@"
}

# submit NAME SBATCH-ARGS...: sbatch --wait as the test user, output in
# $W/NAME.out; prints the job id. The job's exit code is in $W/NAME.rc.
submit() {
  local name=$1; shift
  local rc=0 id
  id=$(cd "$W" && as_user sbatch --parsable --wait -o "$W/$name.out" "$@") || rc=$?
  echo "$rc" >"$W/$name.rc"
  echo "${id%%;*}"
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

show() { echo "--- $W/$1.out"; cat "$W/$1.out" 2>/dev/null || true; }
