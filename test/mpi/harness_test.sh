# The simulated-node harness itself: ranks are grouped by simulated node as
# asked (SIM_NODES), each node sees only its own /dev/shm, a small node's
# /dev/shm has the size asked for, --cpus pins a node, and a job that hangs is
# killed on time.
set -euo pipefail
out=$(mktemp); trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$SIMNODES" "$SIM_NODES" --shm-size nodeB=32m --check '
  set -e
  for h in nodeA nodeB nodeC; do
    [[ $(ls "$SIMNODES_STATE/$h") == "probe-$h" ]] || { echo "node $h sees: $(ls "$SIMNODES_STATE/$h")" >&2; exit 1; }
  done
  [[ $(cat "$SIMNODES_STATE/nodeA/probe-nodeA") == 2 && $(cat "$SIMNODES_STATE/nodeC/probe-nodeC") == 1 ]]
  [[ $(df --output=size -k "$SIMNODES_STATE/nodeB" | tail -n 1) -eq 32768 ]] || { echo "nodeB /dev/shm is not 32m" >&2; exit 1; }
' -- "$NODE_PROBE" >"$out" || { head -n 1 "$out" | grep -q '^SKIP:' && { cat "$out"; exit 0; }; cat "$out"; fail "harness run failed"; }
if head -n 1 "$out" | grep -q '^SKIP:'; then cat "$out"; exit 0; fi
# node grouping as asked: host -> number of ranks, each with the right node size
IFS=, read -ra specs <<<"$SIM_NODES"
for spec in "${specs[@]}"; do
  host=${spec%%:*} ranks=${spec#*:}
  n=$(grep -c "host=$host node_rank=[0-9]* node_size=$ranks\$" "$out" || true)
  [[ $n -eq $ranks ]] || { cat "$out"; fail "$host: want $ranks ranks, saw $n"; }
done

# --cpus pins a node's processes
"$SIMNODES" nodeA:1 --cpus nodeA=0 -- bash -c 'taskset -pc $$' >"$out" 2>&1 || { cat "$out"; fail "--cpus run failed"; }
grep -q "current affinity list: 0\$" "$out" || { cat "$out"; fail "--cpus did not pin nodeA to CPU 0"; }

# a hung job is killed by --timeout and reported
start=$SECONDS
rc=0; "$SIMNODES" nodeA:1 --timeout 3 -- sleep 60 >/dev/null 2>&1 || rc=$?
((rc == 124 || rc == 137)) || fail "a hung job ended with $rc, not by the timeout"
((SECONDS - start < 30)) || fail "the timeout did not stop the job in time"
echo "harness ok"
