// Included (smpicxx -include) before src/bcast/mpi_comm.cpp in the simulation
// only: SMPI 3.32's nonblocking collectives are flat schedules (MPI_Ibcast,
// MPI_Igather(v) and MPI_Ireduce: the root sends to, or receives from, every
// rank in turn; MPI_Iallreduce and MPI_Ibarrier: n*(n-1) messages), which
// makes the control phase O(n) to O(n^2) in simulated and wall time and is
// nothing like a production MPI (MPICH: binomial trees, log2(n) rounds).
// mpi_comm.cpp's nonblocking collectives become binomial-tree schedules of
// point-to-point messages here, advanced inside MPI_Test, which mpi_comm's
// wait_quietly() calls as it always does. The data phase's MPI_Ibcast
// (mpi_transport.cpp, --ibcast) is left as SMPI has it.
#pragma once

#include <mpi.h>

namespace shmstack::sim {
int ibcast(void* buffer, int count, MPI_Datatype type, int root, MPI_Comm comm, MPI_Request* request);
int igather(const void* send, int send_count, MPI_Datatype send_type, void* recv, int recv_count,
            MPI_Datatype recv_type, int root, MPI_Comm comm, MPI_Request* request);
int igatherv(const void* send, int send_count, MPI_Datatype send_type, void* recv, const int* recv_counts,
             const int* displacements, MPI_Datatype recv_type, int root, MPI_Comm comm, MPI_Request* request);
int iallreduce(const void* send, void* recv, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm,
               MPI_Request* request);
int ibarrier(MPI_Comm comm, MPI_Request* request);
int test(MPI_Request* request, int* flag, MPI_Status* status);
}  // namespace shmstack::sim

#define MPI_Ibcast shmstack::sim::ibcast
#define MPI_Igather shmstack::sim::igather
#define MPI_Igatherv shmstack::sim::igatherv
#define MPI_Iallreduce shmstack::sim::iallreduce
#define MPI_Ibarrier shmstack::sim::ibarrier
#define MPI_Test shmstack::sim::test
