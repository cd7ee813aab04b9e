#!/bin/bash
# each_rank.sh CMD...: runs CMD (one MPI rank), then records how it ended in
# $EACH_DIR/rank.<rank> ("host=H rc=C"), so a test can check every rank's exit
# status, not only mpiexec's (a file each: hydra may interleave output lines).
# The rank: PMI_RANK (MPICH) or OMPI_COMM_WORLD_RANK (Open MPI).
"$@"
rc=$?
echo "host=$(hostname) rc=$rc" >"${EACH_DIR:?}/rank.${PMI_RANK:-${OMPI_COMM_WORLD_RANK:?no MPI rank in the environment}}"
exit $rc
