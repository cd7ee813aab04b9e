# Takes the lab down (scripts/slurm-lab/down) and checks that it went down
# cleanly: its daemons are gone, its namespaces, links and test user too,
# and a process that only looks like a Slurm daemon (a copy of sleep named
# slurmd, started before) is still running: down stops by PID, not by name.
set -euo pipefail
LAB=${SHMSTACK_TEST_LAB:-/tmp/shmstack-lab-ctest}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
if [[ -f $LAB/skipped ]]; then
  echo "SKIP: $(cat "$LAB/skipped")"
  rm -rf "$LAB"
  exit 0
fi
[[ -f $LAB/run/lab.env ]] || fail "no lab in $LAB"
. "$LAB/run/lab.env"

created_user=$(cat "$LAB/run/created_user" 2>/dev/null || true)
pids=()
for f in "$LAB"/run/slurmctld.pid "$LAB"/run/slurmd.node*.pid "$LAB"/munge/munged.pid; do pids+=("$(cat "$f")"); done
decoy_dir=$(mktemp -d)
cp "$(command -v sleep)" "$decoy_dir/slurmd"
"$decoy_dir/slurmd" 300 &
decoy=$!
trap 'kill $decoy 2>/dev/null; rm -rf "$decoy_dir"' EXIT

"$REPO/scripts/slurm-lab/down" "$LAB" --purge

for p in "${pids[@]}"; do
  [[ ! -e /proc/$p ]] || fail "process $p ($(cat /proc/$p/comm)) of the lab is still running"
done
kill -0 "$decoy" 2>/dev/null || fail "down stopped a process it did not start (a decoy named slurmd)"
[[ -z $(ip netns list | grep shmstacklab- || true) ]] || fail "namespaces left: $(ip netns list)"
! ip link show "$BR" >/dev/null 2>&1 || fail "bridge $BR left"
[[ -z $created_user ]] || ! id "$created_user" >/dev/null 2>&1 || fail "test user $created_user left"
[[ ! -e $LAB ]] || fail "$LAB left after --purge"
# task/cgroup (LAB_TASK_CGROUP=1): slurmd's cgroups (slurm_<node> in each v1 hierarchy) are gone.
for m in $(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup") print $5; break } }' /proc/self/mountinfo); do
  left=$(ls -d "$m"/slurm_node* 2>/dev/null || true)
  [[ -z $left ]] || fail "cgroups left: $left"
done
echo "lab down; ${#pids[@]} daemons stopped by PID; the decoy survived"
