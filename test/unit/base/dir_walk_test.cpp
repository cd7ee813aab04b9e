// Tests dir_walk: order (sorted, a directory before its contents, left after
// them), a depth far beyond the open-file limit, and a directory moved out
// from under the walk.
#include <doctest/doctest.h>

#include <fcntl.h>
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
