// Included (smpicxx -include) before src/bcast/mpi_comm.cpp in the simulation
// only: SMPI 3.32's MPI_Iallreduce is a schedule of n*(n-1) point-to-point
// messages (every rank sends to every other), which at 256 simulated nodes
// already takes minutes of wall time and is nothing like a real MPI's
// log(n) algorithm. mpi_comm.cpp's MPI_Iallreduce (all_ok) becomes an
// MPI_Ireduce to rank 0 followed by an MPI_Ibcast from it, chained inside
// MPI_Test, which mpi_comm's wait_quietly() calls as it always does.
#pragma once

#include <mpi.h>

namespace shmstack::sim {
int iallreduce(const void* send, void* recv, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm,
               MPI_Request* request);
int test(MPI_Request* request, int* flag, MPI_Status* status);
}  // namespace shmstack::sim

#define MPI_Iallreduce shmstack::sim::iallreduce
#define MPI_Test shmstack::sim::test
