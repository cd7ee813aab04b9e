// Tests dir_walk: order (sorted, a directory before its contents, left after
// them), a depth far beyond the open-file limit, and a directory moved out
// from under the walk.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "base/dir_walk.hpp"
#include "base/error.hpp"
#include "temp_dir.hpp"

namespace {

using shmstack::DirVisitor;
using shmstack::test::TempDir;

struct Recorder : DirVisitor {
  std::vector<std::string> events;
  bool visit(int dirfd, const std::string& name, const std::string& relative) override {
    events.push_back("visit " + relative);
    struct stat st{};
    REQUIRE(::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0);
    return S_ISDIR(st.st_mode);
  }
  void leave(int dirfd, const std::string& name, const std::string& relative) override {
    struct stat st{};
    CHECK(::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0);  // dirfd holds name
    events.push_back("leave " + relative);
  }
};

int open_dir(const std::string& path) { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }

}  // namespace

TEST_CASE("walk_directory visits sorted, a directory before its contents, and leaves it after them") {
  TempDir dir;
  REQUIRE(::mkdir((dir / "b").c_str(), 0755) == 0);
  REQUIRE(::mkdir((dir / "b/c").c_str(), 0755) == 0);
  std::fclose(std::fopen((dir / "a").c_str(), "w"));
  std::fclose(std::fopen((dir / "b/c/f").c_str(), "w"));
  std::fclose(std::fopen((dir / "b/d").c_str(), "w"));
  Recorder recorder;
  int top = open_dir(dir.path());
  shmstack::walk_directory(top, dir.path(), recorder);
  ::close(top);
  CHECK(recorder.events == std::vector<std::string>{"visit a", "visit b", "visit b/c", "visit b/c/f", "leave b/c",
                                                    "visit b/d", "leave b"});
}

TEST_CASE("walk_directory goes 400 levels deep with 16 descriptors allowed") {
  TempDir dir;
  std::string path = dir.path();
  for (int i = 0; i < 400; ++i) {
    path += "/d";
    REQUIRE(::mkdir(path.c_str(), 0755) == 0);
  }
  Recorder recorder;
  int top = open_dir(dir.path());
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  rlimit low = saved;
  low.rlim_cur = 16;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  bool ok = true;
  try {
    shmstack::walk_directory(top, dir.path(), recorder);
  } catch (const shmstack::Error&) {
    ok = false;
  }
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ::close(top);
  CHECK(ok);
  CHECK(recorder.events.size() == 800);
}

TEST_CASE("walk_directory refuses to go up into a directory it did not come down from") {
  TempDir dir;
  REQUIRE(::mkdir((dir / "a").c_str(), 0755) == 0);
  REQUIRE(::mkdir((dir / "a/b").c_str(), 0755) == 0);
  REQUIRE(::mkdir((dir / "a/b/c").c_str(), 0755) == 0);
  REQUIRE(::mkdir((dir / "a/b/c/d").c_str(), 0755) == 0);
  // While the walk is in a/b/c, c moves to the top: its ".." is no longer b.
  struct Mover : DirVisitor {
    int top = -1;
    bool visit(int, const std::string&, const std::string& relative) override {
      if (relative == "a/b/c/d") REQUIRE(::renameat(top, "a/b/c", top, "moved") == 0);
      return relative != "a/b/c/d";
    }
  } mover;
  mover.top = open_dir(dir.path());
  CHECK_THROWS_WITH_AS(shmstack::walk_directory(mover.top, dir.path(), mover),
                       doctest::Contains("it was moved while being walked"), shmstack::Error);
  ::close(mover.top);
}

TEST_CASE("open_directory_beneath opens directories below the top and refuses symlinks, files and '..' on the way") {
  shmstack::test::TempDir dir;
  REQUIRE(::mkdir((dir / "a").c_str(), 0755) == 0);
  REQUIRE(::mkdir((dir / "a/b").c_str(), 0755) == 0);
  REQUIRE(::symlink("a", (dir / "link").c_str()) == 0);
  REQUIRE(::symlink("b", (dir / "a/last").c_str()) == 0);
  int file = ::open((dir / "a/file").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(file >= 0);
  ::close(file);
  int top = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(top >= 0);
  struct stat want{};
  REQUIRE(::stat((dir / "a/b").c_str(), &want) == 0);
  for (bool step_by_step : {false, true}) {
    CAPTURE(step_by_step);
    int fd = shmstack::open_directory_beneath(top, "a/b", step_by_step);
    REQUIRE(fd >= 0);
    struct stat got{};
    REQUIRE(::fstat(fd, &got) == 0);
    CHECK(got.st_ino == want.st_ino);
    ::close(fd);
    fd = shmstack::open_directory_beneath(top, "", step_by_step);
    CHECK(fd >= 0);
    ::close(fd);
    for (const char* refused : {"link/b", "a/last", "a/file", "a/file/x", "a/../a", "a/b/../..", "missing/b"}) {
      CAPTURE(refused);
      fd = shmstack::open_directory_beneath(top, refused, step_by_step);
      CHECK(fd == -1);
      if (fd >= 0) ::close(fd);
    }
  }
  ::close(top);
}

TEST_CASE("open_directory_beneath opens a path longer than PATH_MAX, one step at a time") {
  shmstack::test::TempDir dir;
  int top = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(top >= 0);
  std::string name(200, 'n'), relative;
  std::vector<int> levels = {top};  // kept open to remove them from the bottom (TempDir cannot)
  for (int level = 0; level < 25; ++level) {  // 25 x 201 characters: past 4,096
    REQUIRE(::mkdirat(levels.back(), name.c_str(), 0755) == 0);
    levels.push_back(::openat(levels.back(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(levels.back() >= 0);
    relative += (relative.empty() ? "" : "/") + name;
  }
  struct stat want{};
  REQUIRE(::fstat(levels.back(), &want) == 0);
  REQUIRE(relative.size() > PATH_MAX);
  int fd = shmstack::open_directory_beneath(top, relative);
  REQUIRE(fd >= 0);
  struct stat got{};
  REQUIRE(::fstat(fd, &got) == 0);
  CHECK(got.st_ino == want.st_ino);
  ::close(fd);
  for (std::size_t i = levels.size() - 1; i > 0; --i) {
    ::close(levels[i]);
    ::unlinkat(levels[i - 1], name.c_str(), AT_REMOVEDIR);
  }
  ::close(top);
}
