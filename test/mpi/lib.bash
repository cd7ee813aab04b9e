# Helpers for the broadcast's multi-node scenarios (sourced after the
# end-to-end helpers, which give $S, $T, fail, treecmp, make_tree).
#   sim NODES [simnodes options] -- CMD...   run on simulated nodes; a SKIP from
#                                             the harness skips the scenario
#   $EACH CMD...                              (as sim's command) runs CMD on each rank and
#                                             records its exit status
#   ranks_with_rc C                           how many ranks of the last sim exited with C
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.bash"
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/make_tree.bash"
unset SHMSTACK_ROOT  # each simulated node installs into its own /dev/shm
SIMNODES=${SIMNODES:?set SIMNODES to test/mpi/simnodes}

sim() {
  local rc=0
  rm -rf "$EACH_DIR"; mkdir -p "$EACH_DIR"
  "$SIMNODES" "$@" >"$T/sim.out" 2>"$T/sim.err" || rc=$?
  if head -n 1 "$T/sim.out" | grep -q '^SKIP:'; then cat "$T/sim.out"; exit 0; fi
  return $rc
}

EACH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/each_rank.sh

export EACH_DIR=$T/ranks
ranks_with_rc() { cat "$EACH_DIR"/rank.* 2>/dev/null | grep -c "rc=$1\$" || true; }

show() { echo "--- stdout"; cat "$T/sim.out"; echo "--- stderr"; cat "$T/sim.err"; } >&2
