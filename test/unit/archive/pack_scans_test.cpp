// Tests that pack's scans over the walk (relocation candidates, ELF search
// paths, leaks, content digests) give the same answer, in the walk's order,
// on one thread and on many; and that a file gone since the walk fails the
// scan with the error a serial scan would have stopped at.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "archive/content_digest.hpp"
#include "archive/leak_scan.hpp"
#include "archive/relocation.hpp"
#include "archive/walk.hpp"
#include "base/error.hpp"
#include "elf_image.hpp"
#include "temp_dir.hpp"

using namespace shmstack;

namespace {

// 40 packages, each with scripts, .pth files and shared objects that do or do
// not name the stack's own prefix or a place outside it.
std::string make_tree(const test::TempDir& dir) {
  std::string root = dir.path();
  std::filesystem::create_directories(root + "/bin");
  for (int i = 0; i < 40; ++i) {
    std::string n = std::to_string(i);
    std::string pkg = root + "/lib/site/pkg" + n;
    std::filesystem::create_directories(pkg);
    std::ofstream(root + "/bin/tool" + n) << "#!" << root << "/bin/python\n";
    std::ofstream(root + "/bin/plain" + n) << "#!/bin/sh\necho " << n << "\n";
    std::ofstream(pkg + "/x.pth") << (i % 3 == 0 ? "/global/pkgs" + n : root + "/lib/other") << "\n";
    std::ofstream(pkg + "/mod.py") << "X = " << n << "\n";
    std::ofstream(pkg + "/_in.so", std::ios::binary) << test::elf64("", root + "/lib");
    std::ofstream(pkg + "/_out.so", std::ios::binary) << test::elf64("/global/lib" + n, "");
    if (i % 5 == 0) REQUIRE(::symlink(("/global/data" + n).c_str(), (pkg + "/data").c_str()) == 0);
  }
  return root;
}

}  // namespace

TEST_CASE("pack's scans give the same paths, leaks and digests, in the walk's order, on 1 and 8 threads") {
  test::TempDir dir;
  std::string root = make_tree(dir);
  std::vector<WalkEntry> entries = walk_tree(root, {});
  std::vector<std::string> prefixes = {root};

  std::vector<std::string> files = find_prefix_files(root, entries, prefixes, 1);
  std::vector<std::string> binaries = find_prefix_binaries(root, entries, prefixes, 1);
  std::vector<Leak> leaks = find_leaks(root, entries, prefixes, 1);
  std::vector<std::uint64_t> digests = content_digests(root, entries, 1);
  CHECK(files.size() == 40 + 26);  // bin/toolN, the .pth files that name the stack
  CHECK(binaries.size() == 40);  // _in.so
  CHECK(leaks.size() == 14 + 40 + 8);  // .pth lines, RPATHs outside, symlinks
  CHECK(std::is_sorted(files.begin(), files.end()));  // the walk's order is sorted by name
  CHECK(std::is_sorted(binaries.begin(), binaries.end()));
  CHECK(std::is_sorted(leaks.begin(), leaks.end(), [](const Leak& a, const Leak& b) { return a.path < b.path; }));

  for (int round = 0; round < 3; ++round) {
    CHECK(find_prefix_files(root, entries, prefixes, 8) == files);
    CHECK(find_prefix_binaries(root, entries, prefixes, 8) == binaries);
    std::vector<Leak> parallel = find_leaks(root, entries, prefixes, 8);
    REQUIRE(parallel.size() == leaks.size());
    for (std::size_t i = 0; i < leaks.size(); ++i) {
      CAPTURE(i);
      CHECK(parallel[i].path == leaks[i].path);
      CHECK(parallel[i].reason == leaks[i].reason);
      CHECK(parallel[i].names == leaks[i].names);
    }
    CHECK(content_digests(root, entries, 8) == digests);
  }
}

TEST_CASE("find_prefix_files lists executable scripts anywhere that name the prefix, not other executables") {
  test::TempDir dir;
  std::string root = dir.path();
  std::filesystem::create_directories(root + "/libexec");
  auto put = [&](const std::string& name, const std::string& bytes, bool executable) {
    std::ofstream(root + "/libexec/" + name, std::ios::binary) << bytes;
    if (executable) std::filesystem::permissions(root + "/libexec/" + name, std::filesystem::perms::owner_exec,
                                                 std::filesystem::perm_options::add);
  };
  put("helper", "#!" + root + "/bin/python\nimport x\n", true);
  put("plain", "#!/bin/sh\nexec x\n", true);                         // names nothing of the stack
  put("not-run", "#!" + root + "/bin/python\n", false);              // not executable, not named like a candidate
  put("data", "X" + root + "/bin/python\n", true);                    // executable, no shebang
  put("lib.so", test::elf64("", root + "/lib"), true);               // ELF: find_prefix_binaries' part
  std::vector<WalkEntry> entries = walk_tree(root, {});
  for (unsigned threads : {1u, 4u})
    CHECK(find_prefix_files(root, entries, {root}, threads) == std::vector<std::string>{"libexec/helper"});
}

TEST_CASE("a file gone since the walk fails each scan with the first such file in the walk's order") {
  test::TempDir dir;
  std::string root = make_tree(dir);
  std::vector<WalkEntry> entries = walk_tree(root, {});
  std::filesystem::remove(root + "/bin/tool1");      // early in the walk
  std::filesystem::remove(root + "/bin/tool7");      // later
  std::filesystem::remove(root + "/lib/site/pkg3/_in.so");
  std::filesystem::remove(root + "/lib/site/pkg9/_in.so");
  for (unsigned threads : {1u, 8u}) {
    CAPTURE(threads);
    for (int round = 0; round < 3; ++round) {
      CHECK_THROWS_WITH_AS(find_prefix_files(root, entries, {root}, threads),
                           doctest::Contains("bin/tool1"), Error);
      CHECK_THROWS_WITH_AS(content_digests(root, entries, threads), doctest::Contains("bin/tool1"), Error);
    }
  }
}
