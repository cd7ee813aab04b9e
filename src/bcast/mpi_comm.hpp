// A thin layer over MPI: the few operations the broadcast uses, nothing more.
//
// MpiSession initialises MPI (MPI_THREAD_FUNNELED: only the main thread ever
// calls MPI; worker threads decompress and write) and finalises it when it goes
// out of scope. Comm owns a communicator and offers the node split, the
// leaders' split, a byte broadcast of any length, a gather of strings, and
// all_ok(): the Allreduce of "I am fine" that every phase boundary uses.
// Every count handed to MPI is narrowed with a checked cast; every MPI error
// becomes an Error carrying MPI_Error_string (communicators are set to
// MPI_ERRORS_RETURN).
//
// Waiting: a rank with nothing to do (a non-leader while its leader unpacks,
// a leader waiting for a slow peer, rank 0 waiting for the last node's
// report) must not spin a core that an unpack needs, as MPI's blocking calls
// do. So every collective here is the nonblocking one, finished by
// wait_quietly(), which tests the request and sleeps briefly between tests;
// it also notices SIGINT/SIGTERM. The splits have no nonblocking form: a
// quiet barrier first means every rank is there when the blocking part starts.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shmstack::mpi {

// Throws Error("<operation>", MPI_Error_string(code)) unless code is MPI_SUCCESS.
void check(int code, const char* operation);

// `count` as the int MPI wants; throws Error when it does not fit.
int checked_count(std::size_t count);

// Waits for `request`, sleeping between tests (see above). Throws Interrupted
// on a signal (the caller decides whether peers need MPI_Abort).
void wait_quietly(MPI_Request& request);

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  // Ends the whole job: for when peers would otherwise wait forever.
  [[noreturn]] static void abort(int exit_code);
};

class Comm {
 public:
  static Comm world();
  Comm() = default;
  ~Comm();
  Comm(Comm&& other) noexcept;
  Comm& operator=(Comm&& other) noexcept;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  bool valid() const { return comm_ != MPI_COMM_NULL; }
  MPI_Comm get() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }

  // The ranks sharing this one's node (MPI_COMM_TYPE_SHARED), ordered by rank.
  Comm split_node() const;
  // Ranks with the same `color` together, ordered by (key, rank); ranks
  // passing `member` false get an invalid Comm.
  Comm split(bool member, int color = 0) const;
  // The ranks passing `member` true, ordered by rank (others get an invalid
  // Comm); this communicator itself, not owned, when every rank is a member:
  // a reduction costs one round of collectives, a split several.
  Comm members(bool member) const;
  // The same communicator, not owned: for a phase that needs all of it.
  Comm view() const { return Comm(comm_, false); }

  // Broadcasts `bytes` (any length) from `root`; others' `bytes` is replaced.
  void bcast(std::string& bytes, int root) const;
  void bcast(std::uint64_t& value, int root) const;
  // Every rank's `mine`, at `root` (others get an empty vector).
  std::vector<std::string> gather(const std::string& mine, int root) const;
  // True on every rank when `ok` is true on every rank.
  bool all_ok(bool ok) const;

 private:
  Comm(MPI_Comm comm, bool owned);
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owned_ = false;
  int rank_ = 0;
  int size_ = 0;
};

}  // namespace shmstack::mpi
