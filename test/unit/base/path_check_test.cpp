// Tests path_check: entry-name normalisation and rejection, and stack names.
#include <doctest/doctest.h>
#include <unistd.h>

#include <vector>

#include <climits>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "base/path_check.hpp"

using shmstack::normalize_entry_path;

namespace {

// The normalised path of an accepted name; fails the test if it was rejected.
std::string accepted(std::string_view raw) {
  shmstack::EntryPath entry = normalize_entry_path(raw);
  INFO("raw name: ", std::string(raw), ", problem: ", entry.problem);
  CHECK(entry.problem.empty());
  return entry.path;
}

void check_rejected(std::string_view raw) {
  shmstack::EntryPath entry = normalize_entry_path(raw);
  INFO("raw name: ", std::string(raw));
  CHECK_FALSE(entry.problem.empty());
  CHECK(entry.path.empty());
}

}  // namespace

TEST_CASE("normalize_entry_path removes ./, repeated and trailing slashes") {
  CHECK(accepted("a/b/c") == "a/b/c");
  CHECK(accepted("./a/b") == "a/b");
  CHECK(accepted("a//b///c") == "a/b/c");
  CHECK(accepted("a/b/") == "a/b");
  CHECK(accepted("./a//./b/") == "a/b");
  CHECK(accepted("././a") == "a");
  CHECK(accepted("dir/") == "dir");
}

TEST_CASE("normalize_entry_path gives the empty path for the stack root") {
  CHECK(accepted("./") == "");
  CHECK(accepted(".") == "");
  CHECK(accepted(".//./") == "");
}

TEST_CASE("normalize_entry_path rejects absolute paths") {
  check_rejected("/etc/passwd");
  check_rejected("/");
  check_rejected("//a");
}

TEST_CASE("normalize_entry_path rejects any '..' component") {
  check_rejected("..");
  check_rejected("../x");
  check_rejected("a/../../x");
  check_rejected("a/..");
  check_rejected("./a/b/../c");
  CHECK(accepted("a/..b/c..") == "a/..b/c..");
  CHECK(accepted("...") == "...");
}

TEST_CASE("normalize_entry_path rejects control characters") {
  check_rejected("a\nb");
  check_rejected("name\n");
  check_rejected("a\tb");
  check_rejected("a\rb");
  check_rejected("a\x01");
  check_rejected("a\x1f");
  check_rejected("a\x7f");
  check_rejected(std::string_view("a\0b", 3));
}

TEST_CASE("normalize_entry_path rejects a too long path or component") {
  std::string component_at_limit(NAME_MAX, 'c');
  CHECK(accepted("d/" + component_at_limit) == "d/" + component_at_limit);
  check_rejected("d/" + std::string(NAME_MAX + 1, 'c'));
  check_rejected(std::string(NAME_MAX + 1, 'c') + "/d");

  std::string path;
  while (path.size() < PATH_MAX) path += "abcdefg/";
  path.resize(PATH_MAX - 1);
  if (path.back() == '/') path.back() = 'x';
  CHECK(accepted(path).size() == PATH_MAX - 1);
  check_rejected(path + "y");
}

TEST_CASE("normalize_entry_path accepts UTF-8 and spaces unchanged") {
  CHECK(accepted("données/naïve café.txt") == "données/naïve café.txt");
  CHECK(accepted("my dir/ file with  spaces ") == "my dir/ file with  spaces ");
  CHECK(accepted("日本語/ファイル") == "日本語/ファイル");
}

TEST_CASE("parent_of strips the last component") {
  CHECK(shmstack::parent_of("a/b/c") == "a/b");
  CHECK(shmstack::parent_of("a/b") == "a");
  CHECK(shmstack::parent_of("a") == "");
  CHECK(shmstack::parent_of("") == "");
}

TEST_CASE("check_stack_name accepts letters, digits and . _ + -") {
  CHECK(shmstack::check_stack_name("torch-2.1.0+cu121_py3.11") == "");
  CHECK(shmstack::check_stack_name("a") == "");
  CHECK(shmstack::check_stack_name("-leading-dash") == "");
  CHECK(shmstack::check_stack_name(std::string(100, 'n')) == "");
}

TEST_CASE("check_stack_name rejects empty, long, dotted and odd names") {
  CHECK(shmstack::check_stack_name("") != "");
  CHECK(shmstack::check_stack_name(std::string(101, 'n')) != "");
  CHECK(shmstack::check_stack_name(".hidden") != "");
  CHECK(shmstack::check_stack_name("..") != "");
  CHECK(shmstack::check_stack_name("a/b") != "");
  CHECK(shmstack::check_stack_name("a b") != "");
  CHECK(shmstack::check_stack_name("café") != "");
  CHECK(shmstack::check_stack_name("a\nb") != "");
  CHECK(shmstack::check_stack_name("a:b") != "");
}

TEST_CASE("sanitize_stack_name replaces odd characters and drops leading dots") {
  CHECK(shmstack::sanitize_stack_name("my stack/v1") == "my_stack_v1");
  CHECK(shmstack::sanitize_stack_name("torch-2.1+cu") == "torch-2.1+cu");
  CHECK(shmstack::sanitize_stack_name("..hidden") == "hidden");
  CHECK(shmstack::sanitize_stack_name("café") == "caf__");
  CHECK(shmstack::sanitize_stack_name("") == "stack");
  CHECK(shmstack::sanitize_stack_name("...") == "stack");
  CHECK(shmstack::sanitize_stack_name(std::string(150, 'n')) == std::string(100, 'n'));
}

TEST_CASE("sanitize_stack_name always yields a valid stack name") {
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int> length(0, 130);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string raw(static_cast<std::size_t>(length(random)), '\0');
    for (char& c : raw) c = static_cast<char>(byte(random));
    if (round % 3 == 0) raw.insert(0, "..");
    std::string name = shmstack::sanitize_stack_name(raw);
    INFO("sanitized: ", name);
    CHECK(shmstack::check_stack_name(name) == "");
  }
}

TEST_CASE("name_from_archive_path strips directories and archive suffixes") {
  CHECK(shmstack::name_from_archive_path("torch.tar.lz4") == "torch");
  CHECK(shmstack::name_from_archive_path("/data/stacks/torch-2.1.tar.lz4") == "torch-2.1");
  CHECK(shmstack::name_from_archive_path("env.tar.gz") == "env");
  CHECK(shmstack::name_from_archive_path("env.tgz") == "env");
  CHECK(shmstack::name_from_archive_path("env.tar.zst") == "env");
  CHECK(shmstack::name_from_archive_path("env.tar") == "env");
  CHECK(shmstack::name_from_archive_path("rel/dir/numpy-1.26.tar.gz") == "numpy-1.26");
  CHECK(shmstack::name_from_archive_path("a.b.c.tar.lz4") == "a.b.c");
  CHECK(shmstack::name_from_archive_path("/x.tar/y.tgz") == "y");
}

TEST_CASE("name_from_archive_path replaces odd characters by '_'") {
  CHECK(shmstack::name_from_archive_path("/tmp/my env (copy).tar.lz4") == "my_env__copy_");
  CHECK(shmstack::name_from_archive_path("dir/.hidden.tar") == "hidden");
  CHECK(shmstack::name_from_archive_path("naïve.tar.gz") == "na__ve");
  CHECK(shmstack::check_stack_name(shmstack::name_from_archive_path("/a/b/@#!.tar.zst")) == "");
}

TEST_CASE("split keeps empty pieces") {
  using V = std::vector<std::string_view>;
  CHECK(shmstack::split("a::b", ':') == V{"a", "", "b"});
  CHECK(shmstack::split("", ':') == V{""});
  CHECK(shmstack::split(":a:", ':') == V{"", "a", ""});
  CHECK(shmstack::split("abc", ':') == V{"abc"});
}

TEST_CASE("lexically_absolute normalises as text, against the working directory") {
  CHECK(shmstack::lexically_absolute("/a/./b//c/../d/") == "/a/b/d");
  CHECK(shmstack::lexically_absolute("/..") == "/");
  CHECK(shmstack::lexically_absolute("/") == "/");
  char cwd[4096];
  REQUIRE(::getcwd(cwd, sizeof cwd));
  CHECK(shmstack::lexically_absolute("x/../y.tar.lz4") == std::string(cwd == std::string("/") ? "" : cwd) + "/y.tar.lz4");
  // never looks anything up: a path that does not exist is fine
  CHECK(shmstack::lexically_absolute("/no/such/dir/../file") == "/no/such/file");
}
