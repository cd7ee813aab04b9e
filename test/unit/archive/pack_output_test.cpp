// Tests pack's output checks: suffixes that claim another format, and the
// checks made on the file system before packing.
#include "archive/pack_output.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "temp_dir.hpp"

using namespace shmstack;

TEST_CASE("foreign_archive_suffix: names that say another compression") {
  CHECK(foreign_archive_suffix("env.tar.lz4").empty());
  CHECK(foreign_archive_suffix("/x/env.tlz4").empty());
  CHECK(foreign_archive_suffix("env.lz4").empty());
  CHECK(foreign_archive_suffix("env").empty());
  CHECK(foreign_archive_suffix("env.stack").empty());
  CHECK(foreign_archive_suffix("env.tar.gz") == "gzip");
  CHECK(foreign_archive_suffix("env.tgz") == "gzip");
  CHECK(foreign_archive_suffix("env.tar.zst") == "zstd");
  CHECK(foreign_archive_suffix("env.tar.xz") == "xz");
  CHECK(foreign_archive_suffix("env.tar.bz2") == "bzip2");
  CHECK(foreign_archive_suffix("env.tar") == "plain tar");
  CHECK(foreign_archive_suffix("env.zip") == "zip");
  CHECK(foreign_archive_suffix("a.tar.gz/env").empty());  // a directory's name says nothing
  CHECK(lz4_output_name("out/env.tar.gz") == "out/env.tar.lz4");
  CHECK(lz4_output_name("env.tgz") == "env.tar.lz4");
  CHECK(lz4_output_name("env.tar") == "env.tar.lz4");
}

TEST_CASE("check_pack_output: directories, missing parents, inside the tree, existing files") {
  test::TempDir dir;
  std::string t = dir.path();
  std::filesystem::create_directories(t + "/tree/sub");
  std::filesystem::create_directories(t + "/out");
  std::ofstream(t + "/out/old.tar.lz4") << "x";
  auto why = [&](const std::string& output, bool replace = false) {
    try {
      check_pack_output(t + "/tree", output, replace);
    } catch (const Error& e) {
      return e.reason();
    }
    return std::string();
  };
  CHECK(why(t + "/out").find("it is a directory; name the archive file, e.g. -o '" + t + "/out/tree.tar.lz4'") == 0);
  CHECK(why(t + "/nope/x.tar.lz4") == "its directory '" + t + "/nope' does not exist");
  CHECK(why(t + "/tree/sub/x.tar.lz4").find("it is inside") == 0);
  CHECK(why(t + "/tree/x.tar.lz4").find("it is inside") == 0);
  CHECK(why(t + "/out/old.tar.lz4") == "it exists; pass --force to replace it");
  CHECK(why(t + "/out/old.tar.lz4", true).empty());
  CHECK(why(t + "/out/new.tar.lz4").empty());
  CHECK(why(t + "/tree-sibling.tar.lz4").empty());  // beside the tree, not in it
}
