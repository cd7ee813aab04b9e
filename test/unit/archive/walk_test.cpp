// Tests walk: order, types, hard links, symlinks, excludes, modes and mtimes of walk_tree.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "temp_dir.hpp"
#include "archive/walk.hpp"

using shmstack::WalkEntry;
using Type = WalkEntry::Type;

namespace {

void make_file(const std::string& path, const std::string& content, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  REQUIRE_MESSAGE(fd >= 0, "cannot create ", path);
  REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  ::close(fd);
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

void make_dir(const std::string& path, mode_t mode = 0755) {
  REQUIRE_MESSAGE(::mkdir(path.c_str(), 0700) == 0, "cannot create ", path);
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

void set_mtime(const std::string& path, std::int64_t sec, long nsec) {
  timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(sec), nsec}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

std::vector<std::string> paths_of(const std::vector<WalkEntry>& entries) {
  std::vector<std::string> paths;
  for (const WalkEntry& e : entries) paths.push_back(e.path);
  return paths;
}

const WalkEntry& entry_at(const std::vector<WalkEntry>& entries, const std::string& path) {
  for (const WalkEntry& e : entries)
    if (e.path == path) return e;
  FAIL("no entry ", path);
  return entries.front();
}

// The tree of the main test; `excludes` applied to it gives the expected paths.
struct SampleTree {
  shmstack::test::TempDir dir;

  SampleTree() {
    make_file(dir / "A_upper.txt", "upper");
    make_file(dir / "a.txt", "hello", 0640);
    make_dir(dir / "b", 0750);
    REQUIRE(::link((dir / "a.txt").c_str(), (dir / "b/a_again.txt").c_str()) == 0);
    make_file(dir / "b/c.txt", std::string(5000, 'c'));
    REQUIRE(::symlink("nowhere/at all", (dir / "b/dangling").c_str()) == 0);
    REQUIRE(::symlink("../a.txt", (dir / "b/link").c_str()) == 0);
    make_file(dir / "b/skip.o", "object");
    make_dir(dir / "b/sub");
    make_file(dir / "b/sub/deep.txt", "deep");
    make_file(dir / "b-c.txt", "dash");
    make_dir(dir / "cache");
    make_file(dir / "cache/x.bin", "cached");
    make_dir(dir / "d", 01777);
    make_dir(dir / "d/sub");
    make_file(dir / "d/sub/deep.txt", "deep");
    make_file(dir / "skip.o", "object");
    make_file(dir / "z_exec.sh", "#!/bin/sh\n", 0755);

    set_mtime(dir / "a.txt", 1700000000, 123456789);
    set_mtime(dir / "b/link", 1600000000, 5);
    set_mtime(dir / "b", 1650000000, 999999999);
  }
};

const std::vector<std::string> kExcludes = {"*.o", "cache", "b/sub"};

}  // namespace

TEST_CASE("walk_tree lists depth first, sorted bytewise, directories before their contents") {
  SampleTree tree;
  std::vector<WalkEntry> entries = shmstack::walk_tree(tree.dir.path(), kExcludes);
  // "b-c.txt" sorts after all of "b/...": each directory's names are sorted, not the full paths.
  const std::vector<std::string> expected = {
      "A_upper.txt", "a.txt", "b", "b/a_again.txt", "b/c.txt", "b/dangling", "b/link",
      "b-c.txt",     "d",     "d/sub", "d/sub/deep.txt", "z_exec.sh",
  };
  CHECK(paths_of(entries) == expected);
}

TEST_CASE("walk_tree records types, sizes and links") {
  SampleTree tree;
  std::vector<WalkEntry> entries = shmstack::walk_tree(tree.dir.path(), kExcludes);

  const WalkEntry& first = entry_at(entries, "a.txt");
  CHECK(first.type == Type::file);
  CHECK(first.size == 5);
  CHECK(first.link.empty());

  const WalkEntry& again = entry_at(entries, "b/a_again.txt");
  CHECK(again.type == Type::hardlink);
  CHECK(again.link == "a.txt");
  CHECK(again.size == 0);

  CHECK(entry_at(entries, "b/c.txt").type == Type::file);
  CHECK(entry_at(entries, "b/c.txt").size == 5000);

  const WalkEntry& link = entry_at(entries, "b/link");
  CHECK(link.type == Type::symlink);
  CHECK(link.link == "../a.txt");

  const WalkEntry& dangling = entry_at(entries, "b/dangling");
  CHECK(dangling.type == Type::symlink);
  CHECK(dangling.link == "nowhere/at all");

  CHECK(entry_at(entries, "b").type == Type::directory);
  CHECK(entry_at(entries, "d/sub").type == Type::directory);
}

TEST_CASE("walk_tree records permission bits only, and mtimes with nanoseconds") {
  SampleTree tree;
  std::vector<WalkEntry> entries = shmstack::walk_tree(tree.dir.path(), kExcludes);
  CHECK(entry_at(entries, "a.txt").mode == 0640);
  CHECK(entry_at(entries, "z_exec.sh").mode == 0755);
  CHECK(entry_at(entries, "b").mode == 0750);
  CHECK(entry_at(entries, "d").mode == 01777);

  const WalkEntry& file = entry_at(entries, "a.txt");
  CHECK(file.mtime_sec == 1700000000);
  CHECK(file.mtime_nsec == 123456789);
  const WalkEntry& dir = entry_at(entries, "b");
  CHECK(dir.mtime_sec == 1650000000);
  CHECK(dir.mtime_nsec == 999999999);
  const WalkEntry& link = entry_at(entries, "b/link");  // the link's own time, not its target's
  CHECK(link.mtime_sec == 1600000000);
  CHECK(link.mtime_nsec == 5);
}

TEST_CASE("walk_tree without excludes lists everything") {
  SampleTree tree;
  const std::vector<std::string> expected = {
      "A_upper.txt", "a.txt", "b", "b/a_again.txt", "b/c.txt", "b/dangling", "b/link", "b/skip.o",
      "b/sub", "b/sub/deep.txt", "b-c.txt", "cache", "cache/x.bin", "d", "d/sub", "d/sub/deep.txt",
      "skip.o", "z_exec.sh",
  };
  CHECK(paths_of(shmstack::walk_tree(tree.dir.path(), {})) == expected);
}

TEST_CASE("is_excluded matches a pattern with '/' against the path, otherwise the name") {
  const std::vector<std::string> patterns = {"*.o", "cache", "b/sub"};
  CHECK(shmstack::is_excluded("x.o", false, patterns));
  CHECK(shmstack::is_excluded("deep/down/x.o", false, patterns));
  CHECK(shmstack::is_excluded("cache", false, patterns));
  CHECK(shmstack::is_excluded("a/b/cache", false, patterns));
  CHECK(shmstack::is_excluded("b/sub", false, patterns));
  CHECK_FALSE(shmstack::is_excluded("d/sub", false, patterns));
  CHECK_FALSE(shmstack::is_excluded("x/b/sub", false, patterns));
  CHECK_FALSE(shmstack::is_excluded("sub", false, patterns));
  CHECK_FALSE(shmstack::is_excluded("cache2", false, patterns));
  CHECK_FALSE(shmstack::is_excluded("x.oo", false, patterns));
  CHECK_FALSE(shmstack::is_excluded("anything", false, {}));
}

TEST_CASE("is_excluded reads a trailing '/' as 'a directory' and a leading one as 'from the top'") {
  const std::vector<std::string> patterns = {"tests/", "/build", "/docs/api/", "/"};
  CHECK(shmstack::is_excluded("tests", true, patterns));
  CHECK(shmstack::is_excluded("pkg/tests", true, patterns));
  CHECK_FALSE(shmstack::is_excluded("pkg/tests", false, patterns));  // a file named tests
  CHECK(shmstack::is_excluded("build", true, patterns));
  CHECK(shmstack::is_excluded("build", false, patterns));
  CHECK_FALSE(shmstack::is_excluded("pkg/build", true, patterns));
  CHECK(shmstack::is_excluded("docs/api", true, patterns));
  CHECK_FALSE(shmstack::is_excluded("x/docs/api", true, patterns));
  CHECK_FALSE(shmstack::is_excluded("docs/api", false, patterns));
  CHECK_FALSE(shmstack::is_excluded("anything", true, patterns));  // "/" alone matches nothing
}

TEST_CASE("a hard link whose first path is excluded stays a file") {
  shmstack::test::TempDir dir;
  make_file(dir / "first.o", "shared content");
  REQUIRE(::link((dir / "first.o").c_str(), (dir / "second.txt").c_str()) == 0);
  REQUIRE(::link((dir / "first.o").c_str(), (dir / "third.txt").c_str()) == 0);
  std::vector<WalkEntry> entries = shmstack::walk_tree(dir.path(), {"*.o"});
  REQUIRE(paths_of(entries) == std::vector<std::string>{"second.txt", "third.txt"});
  CHECK(entries[0].type == Type::file);
  CHECK(entries[0].size == 14);
  CHECK(entries[1].type == Type::hardlink);
  CHECK(entries[1].link == "second.txt");
}

TEST_CASE("walk_tree skips FIFOs") {
  shmstack::test::TempDir dir;
  make_file(dir / "file", "x");
  REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
  CHECK(paths_of(shmstack::walk_tree(dir.path(), {})) == std::vector<std::string>{"file"});
}

TEST_CASE("walk_tree of an empty directory is empty and of a missing one throws") {
  shmstack::test::TempDir dir;
  CHECK(shmstack::walk_tree(dir.path(), {}).empty());
  CHECK_THROWS_AS(shmstack::walk_tree(dir / "missing", {}), shmstack::Error);
  make_file(dir / "plain", "x");
  CHECK_THROWS_AS(shmstack::walk_tree(dir / "plain", {}), shmstack::Error);
}

TEST_CASE("walk_tree throws on an unreadable directory") {
  if (::geteuid() == 0) {
    MESSAGE("skipped: root reads every directory");
    return;
  }
  shmstack::test::TempDir dir;
  make_dir(dir / "locked");
  make_file(dir / "locked/secret", "x");
  REQUIRE(::chmod((dir / "locked").c_str(), 0) == 0);
  CHECK_THROWS_AS(shmstack::walk_tree(dir.path(), {}), shmstack::Error);
  ::chmod((dir / "locked").c_str(), 0700);
}

namespace {

// Every field of every entry, one line each: what two walks are compared by.
std::vector<std::string> described(const std::vector<WalkEntry>& entries) {
  std::vector<std::string> lines;
  for (const WalkEntry& e : entries)
    lines.push_back(e.path + " " + std::to_string(static_cast<int>(e.type)) + " " + std::to_string(e.mode) + " " +
                    std::to_string(e.size) + " " + std::to_string(e.mtime_sec) + "." + std::to_string(e.mtime_nsec) +
                    " -> " + e.link);
  return lines;
}

}  // namespace

TEST_CASE("the parallel walk lists what the serial walk lists, entry for entry, hard links to the same first path") {
  SampleTree tree;
  // More than the sample: wide and deep directories, hard links across them
  // (the first path in the walk's order is the file), a FIFO, empty directories.
  for (int d = 0; d < 40; ++d) {
    std::string dir = tree.dir / ("pkg" + std::to_string(d));
    make_dir(dir);
    for (int f = 0; f < 25; ++f) make_file(dir + "/m" + std::to_string(f) + ".py", std::string(static_cast<std::size_t>(f), 'x'));
    make_dir(dir + "/empty");
    if (d % 5 == 0) REQUIRE(::link((tree.dir / "z_exec.sh").c_str(), (dir + "/exec_again").c_str()) == 0);
    if (d % 7 == 0) REQUIRE(::symlink("m1.py", (dir + "/alias").c_str()) == 0);
  }
  REQUIRE(::mkfifo((tree.dir / "pkg3/pipe").c_str(), 0600) == 0);
  std::string deep = tree.dir / "deep";
  for (int level = 0; level < 200; ++level) {
    make_dir(deep);
    deep += "/d";
  }
  make_file(deep, "bottom");
  for (const std::vector<std::string>& excludes : {std::vector<std::string>{}, kExcludes, {"pkg1*", "empty/"}}) {
    std::vector<std::string> serial = described(shmstack::walk_tree(tree.dir.path(), excludes));
    REQUIRE(serial.size() > 500);
    for (unsigned threads : {2u, 4u, 16u}) {
      CAPTURE(threads);
      CHECK(described(shmstack::walk_tree(tree.dir.path(), excludes, {}, threads)) == serial);
    }
  }
  shmstack::WalkLimits top_two;
  top_two.max_depth = 2;
  CHECK(described(shmstack::walk_tree(tree.dir.path(), {}, top_two, 4)) ==
        described(shmstack::walk_tree(tree.dir.path(), {}, top_two)));
}

TEST_CASE("the parallel walk of an empty directory is empty and of a missing one throws") {
  shmstack::test::TempDir dir;
  CHECK(shmstack::walk_tree(dir.path(), {}, {}, 4).empty());
  CHECK_THROWS_AS(shmstack::walk_tree(dir / "missing", {}, {}, 4), shmstack::Error);
}
