#include <mpi.h>

#include <map>

namespace shmstack::sim {
namespace {

struct Reducing {
  void* recv;
  int count;
  MPI_Datatype type;
  MPI_Comm comm;
};

// Ireduce requests whose Ibcast is still to come. All simulated ranks share
// this map (no privatization); actors never run concurrently.
std::map<MPI_Request, Reducing>& reducing() {
  static std::map<MPI_Request, Reducing> pending;
  return pending;
}

}  // namespace

int iallreduce(const void* send, void* recv, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm,
               MPI_Request* request) {
  int rc = MPI_Ireduce(send, recv, count, type, op, 0, comm, request);
  if (rc == MPI_SUCCESS) reducing()[*request] = {recv, count, type, comm};
  return rc;
}

int test(MPI_Request* request, int* flag, MPI_Status* status) {
  auto it = reducing().find(*request);
  if (it == reducing().end()) return MPI_Test(request, flag, status);
  MPI_Request reduce = *request;
  int rc = MPI_Test(&reduce, flag, status);
  if (rc != MPI_SUCCESS || !*flag) return rc;
  Reducing r = it->second;
  reducing().erase(it);
  *flag = 0;
  return MPI_Ibcast(r.recv, r.count, r.type, 0, r.comm, request);
}

}  // namespace shmstack::sim
