// A tiny MPI program for testing the simulated-node harness: each rank
// reports its host and node rank, and node leaders leave a file in /dev/shm.
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank = 0, node_rank = 0, node_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &node_rank);
  MPI_Comm_size(node, &node_size);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  if (node_rank == 0) {
    std::string path = std::string("/dev/shm/probe-") + host;
    if (std::FILE* f = std::fopen(path.c_str(), "w")) {
      std::fprintf(f, "%d\n", node_size);
      std::fclose(f);
    }
  }
  std::printf("probe rank=%d host=%s node_rank=%d node_size=%d\n", rank, host, node_rank, node_size);
  MPI_Comm_free(&node);
  MPI_Finalize();
  return 0;
}
