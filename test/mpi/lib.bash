# Helpers for the broadcast's multi-node scenarios (sourced after the
# end-to-end helpers, which give $S, $T, fail, treecmp, make_tree).
#   sim NODES [simnodes options] -- CMD...   run on simulated nodes; a SKIP from
#                                             the harness skips the scenario
#   $EACH CMD...                              (as sim's command) runs CMD on each rank and
#                                             records its exit status
#   ranks_with_rc C                           how many ranks of the last sim exited with C
#   all_ranks_failed N                        the last sim's N ranks all exited 1 (see below)
#   $MPI_FLAVOR                               mpich or openmpi: what $SHMSTACK_MPIEXEC launches
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

MPI_FLAVOR=$("${SHMSTACK_MPIEXEC:-mpiexec.hydra}" --version 2>&1 || true)
if [[ $MPI_FLAVOR == *OpenRTE* || $MPI_FLAVOR == *"Open MPI"* ]]; then MPI_FLAVOR=openmpi; else MPI_FLAVOR=mpich; fi

# Under MPICH every one of the N ranks records exit status 1. Open MPI's
# mpirun kills the remaining ranks as soon as the first one exits non-zero
# (orte_abort_on_non_zero_status; turning it off makes mpirun itself exit 0),
# so there: no rank recorded anything but 1, at least one did, and mpirun
# reports that the first rank to end exited with 1.
all_ranks_failed() {
  local n=$1 recorded
  recorded=$(cat "$EACH_DIR"/rank.* 2>/dev/null | wc -l)
  if [[ $MPI_FLAVOR == mpich ]]; then
    [[ $(ranks_with_rc 1) -eq $n ]]
  else
    ((recorded >= 1 && $(ranks_with_rc 1) == recorded && recorded <= n)) &&
      grep -A4 "detected that one or more processes exited with non-zero status" "$T/sim.err" "$T/sim.out" | grep -q "Exit code: *1$"
  fi
}
