// Tests open_regular: a regular file opens in blocking mode; a FIFO, a directory,
// a device, a symlink under O_NOFOLLOW and a missing path are refused at once,
// each with its reason (a FIFO would make a plain open(2) wait for a writer).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "base/error.hpp"
#include "base/regular_file.hpp"
#include "temp_dir.hpp"

using shmstack::open_regular;

namespace {

// open_regular's problem for `path`, or "opened" (and the descriptor closed).
std::string outcome(const std::string& path, int flags) {
  std::string problem;
  int fd = open_regular(AT_FDCWD, path, flags, problem);
  if (fd < 0) return problem;
  ::close(fd);
  return "opened";
}

}  // namespace

TEST_CASE("open_regular opens regular files in blocking mode and refuses every other kind at once") {
  shmstack::test::TempDir dir;
  std::ofstream(dir / "file") << "bytes";
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  REQUIRE(::symlink("file", (dir / "link").c_str()) == 0);

  std::string problem;
  struct stat st{};
  int fd = open_regular(AT_FDCWD, dir / "file", O_NOFOLLOW, problem, &st);
  REQUIRE(fd >= 0);
  CHECK(st.st_size == 5);
  CHECK((::fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
  ::close(fd);

  CHECK(outcome(dir / "fifo", 0) == "not a regular file (a FIFO)");
  CHECK(outcome(dir.path(), 0) == "not a regular file (a directory)");
  CHECK(outcome("/dev/null", 0) == "not a regular file (a character device)");
  CHECK(outcome(dir / "link", O_NOFOLLOW) == "Too many levels of symbolic links");
  CHECK(outcome(dir / "link", 0) == "opened");
  CHECK(outcome(dir / "missing", 0) == "No such file or directory");

  std::string expected = "cannot open '" + (dir / "fifo") + "': not a regular file (a FIFO)";
  CHECK_THROWS_WITH_AS(shmstack::open_regular_or_throw(dir / "fifo", 0), expected.c_str(), shmstack::Error);
}

TEST_CASE("open_regular opens relative to a directory descriptor") {
  shmstack::test::TempDir dir;
  std::ofstream(dir / "file") << "bytes";
  int dirfd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dirfd >= 0);
  std::string problem;
  int fd = open_regular(dirfd, "file", O_NOFOLLOW, problem);
  CHECK(fd >= 0);
  if (fd >= 0) ::close(fd);
  CHECK(open_regular(dirfd, "missing", O_NOFOLLOW, problem) == -1);
  CHECK(problem == "No such file or directory");
  ::close(dirfd);
}
