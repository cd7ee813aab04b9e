// Tests the ELF RPATH/RUNPATH reader on ELF images built here, on every
// truncation of them and on mutated bytes (never a crash, never a read out
// of bounds: run under ASan/UBSan in the sanitizer preset), and on a real
// binary of this machine.
#include <doctest/doctest.h>

#include <elf.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "archive/elf_rpath.hpp"
#include "archive/relocation.hpp"
#include "elf_image.hpp"
#include "temp_dir.hpp"

using shmstack::read_elf_search_paths;
using shmstack::relocate_search_paths;
using shmstack::test::elf64;
using shmstack::test::make_elf;

namespace {

// The image with `relocation`'s edits applied.
std::string edited(std::string image, const shmstack::BinaryRelocation& relocation) {
  for (const auto& edit : relocation.edits) image.replace(edit.offset, edit.bytes.size(), edit.bytes);
  return image;
}

}  // namespace

TEST_CASE("read_elf_search_paths reads RPATH and RUNPATH of 64- and 32-bit files") {
  auto r = read_elf_search_paths(elf64("/old/lib:$ORIGIN/../lib", "/some/abs/outside"));
  CHECK(r.is_elf);
  CHECK(r.skipped.empty());
  CHECK(r.rpath == std::vector<std::string>{"/old/lib", "$ORIGIN/../lib"});
  CHECK(r.runpath == std::vector<std::string>{"/some/abs/outside"});
  auto r32 = read_elf_search_paths(make_elf<Elf32_Ehdr, Elf32_Phdr, Elf32_Dyn>(ELFCLASS32, "/a", "/b:/c"));
  CHECK(r32.skipped.empty());
  CHECK(r32.rpath == std::vector<std::string>{"/a"});
  CHECK(r32.runpath == std::vector<std::string>{"/b", "/c"});
}

TEST_CASE("read_elf_search_paths: not ELF, other byte order, unknown class") {
  CHECK_FALSE(read_elf_search_paths("#!/bin/sh\necho hi\n").is_elf);
  CHECK_FALSE(read_elf_search_paths("").is_elf);
  std::string image = elf64("/a", "/b");
  image[EI_DATA] = ELFDATA2MSB;
  CHECK(read_elf_search_paths(image).skipped == "byte order of another machine");
  image = elf64("/a", "/b");
  image[EI_CLASS] = 7;
  CHECK(read_elf_search_paths(image).skipped == "unknown ELF class");
}

TEST_CASE("read_elf_search_paths on every truncation: a reason, never a crash") {
  std::string image = elf64("/old/lib", "/some/abs/outside");
  for (std::size_t n = 0; n < image.size(); ++n) {
    std::string cut = image.substr(0, n);  // own allocation: ASan sees any read past n
    auto r = read_elf_search_paths(cut);
    if (n >= EI_NIDENT) {
      CHECK_MESSAGE(r.is_elf, n);
      CHECK_MESSAGE(!r.skipped.empty(), n);  // the string table is at the end: always cut off
    }
  }
}

TEST_CASE("read_elf_search_paths on mutated bytes never reads out of bounds") {
  std::string image = elf64("/old/lib", "/some/abs/outside");
  std::mt19937 random(18);
  for (int round = 0; round < 20000; ++round) {
    std::string bad = image;
    int flips = 1 + static_cast<int>(random() % 8);
    for (int f = 0; f < flips; ++f) bad[SELFMAG + random() % (bad.size() - SELFMAG)] = static_cast<char>(random());
    auto r = read_elf_search_paths(bad);
    CHECK(r.is_elf);
    for (const std::string& e : r.rpath) CHECK(e.size() < bad.size());
  }
}

TEST_CASE("read_elf_search_paths_file: a real binary, a written image, a text file") {
  auto sh = shmstack::read_elf_search_paths_file(std::filesystem::canonical("/bin/sh"), 1 << 20);
  CHECK(sh.is_elf);
  CHECK(sh.skipped.empty());
  shmstack::test::TempDir dir;
  std::string image = elf64("", "/x/y");
  std::ofstream(dir / "lib.so", std::ios::binary) << image;
  auto f = shmstack::read_elf_search_paths_file(dir / "lib.so", image.size());
  CHECK(f.runpath == std::vector<std::string>{"/x/y"});
  CHECK(f.rpath.empty());
  // a size larger than the file (it shrank after the walk): still in bounds
  CHECK(shmstack::read_elf_search_paths_file(dir / "lib.so", image.size() * 4).runpath.size() == 1);
  std::ofstream(dir / "text") << "not an ELF file, but long enough to be looked at";
  CHECK_FALSE(shmstack::read_elf_search_paths_file(dir / "text", 40).is_elf);
}

TEST_CASE("read_elf_search_paths says where each string lies, and whether another starts inside it") {
  std::string image = elf64("/old/lib", "/old/lib:/x");
  auto r = read_elf_search_paths(image);
  REQUIRE(r.strings.size() == 2);
  CHECK_FALSE(r.strings[0].runpath);
  CHECK(r.strings[1].runpath);
  for (const auto& string : r.strings) {
    CHECK(image.compare(string.offset, string.value.size(), string.value) == 0);
    CHECK(image[string.offset + string.value.size()] == '\0');
    CHECK_FALSE(string.shared);
  }
  CHECK(r.strings[1].value == "/old/lib:/x");
  CHECK(read_elf_search_paths(elf64("/a", "/old/lib", 5)).strings[1].shared);    // "lib" shared
  CHECK_FALSE(read_elf_search_paths(elf64("/a", "/old/lib", 8)).strings[1].shared);  // at the NUL: ""
}

TEST_CASE("relocate_search_paths makes entries in an old prefix $ORIGIN-relative, in place") {
  std::vector<std::string> old = {"/root/.pyenv/versions/3.11.7"};
  std::string image = elf64("", "/root/.pyenv/versions/3.11.7/lib:/usr/lib:$ORIGIN");
  auto moved = relocate_search_paths(read_elf_search_paths(image), "lib/python3.11/lib-dynload/zlib.so", old);
  CHECK(moved.problem.empty());
  REQUIRE(moved.edits.size() == 1);
  std::string after = edited(image, moved);
  CHECK(after.size() == image.size());
  auto r = read_elf_search_paths(after);
  CHECK(r.skipped.empty());
  CHECK(r.runpath == std::vector<std::string>{"$ORIGIN/../..", "/usr/lib", "$ORIGIN"});
  // Relocated once, nothing is left to do.
  CHECK(relocate_search_paths(r, "lib/python3.11/lib-dynload/zlib.so", old).edits.empty());
  // Nothing in a prefix: no edits, no problem.
  auto outside = relocate_search_paths(read_elf_search_paths(elf64("/elsewhere/lib", "")), "x.so", old);
  CHECK(outside.edits.empty());
  CHECK(outside.problem.empty());
}

TEST_CASE("relocate_search_paths refuses what does not fit, or shares its bytes") {
  std::vector<std::string> old = {"/o"};
  auto longer = relocate_search_paths(read_elf_search_paths(elf64("", "/o/lib")), "a/b/c/x.so", old);
  CHECK(longer.edits.empty());
  CHECK(longer.problem.find("longer") != std::string::npos);
  auto shared = relocate_search_paths(read_elf_search_paths(elf64("", "/o/some/long/lib", 3)), "x.so", old);
  CHECK(shared.problem.find("shares its bytes") != std::string::npos);
}
