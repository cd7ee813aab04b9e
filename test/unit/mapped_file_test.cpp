#include "mapped_file.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>

#include "byte_sink.hpp"
#include "byte_source.hpp"
#include "error.hpp"
#include "pack.hpp"
#include "tar_reader.hpp"
#include "temp_dir.hpp"

using shmstack::test::TempDir;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(n, '\0');
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t word = rng();
    for (std::size_t j = 0; j < 8 && i + j < n; ++j) bytes[i + j] = static_cast<char>(word >> (8 * j));
  }
  return bytes;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("a mapped file reads as the file, and a page lost to truncation reads as zeros") {
  TempDir dir;
  std::string path = dir / "data";
  std::string bytes = random_bytes(1 << 20, 1);
  write_file(path, bytes);
  shmstack::FileSource source(path);
  shmstack::InPlaceBytes* whole = source.in_place();
  REQUIRE(whole != nullptr);
  CHECK(whole->bytes() == bytes);
  CHECK_FALSE(whole->vanished());

  // Without the SIGBUS handler, reading past the new end would kill the test.
  REQUIRE(::truncate(path.c_str(), 4096) == 0);
  std::string_view view = whole->bytes();
  CHECK(view.substr(0, 4096) == std::string_view(bytes).substr(0, 4096));
  CHECK(view[(1 << 20) - 1] == '\0');
  CHECK(view[8192] == '\0');
  CHECK(whole->vanished());
}

TEST_CASE("a pipe or an empty file is read, not mapped") {
  TempDir dir;
  write_file(dir / "empty", "");
  shmstack::FileSource empty(dir / "empty");
  CHECK(empty.in_place() == nullptr);
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  int keep_open = ::open((dir / "fifo").c_str(), O_RDWR);  // so opening for reading does not block
  shmstack::FileSource fifo(dir / "fifo");
  CHECK(fifo.in_place() == nullptr);
  ::close(keep_open);
}

TEST_CASE("an archive truncated while it is unpacked from its mapping fails with a clear error") {
  TempDir dir;
  REQUIRE(::mkdir((dir / "tree").c_str(), 0755) == 0);
  // Incompressible, so the archive is as large as the data: 24 frames of 1 MiB.
  write_file(dir / "tree/noise.bin", random_bytes(24 << 20, 2));
  shmstack::PackOptions options;
  options.dir = dir / "tree";
  options.threads = 2;
  shmstack::PackPlan plan = shmstack::plan_pack(options);
  std::string archive = dir / "tree.tar.lz4";
  {
    shmstack::FileSink sink(archive);
    shmstack::write_archive(options, plan, sink);
    sink.commit();
  }

  shmstack::FileSource source(archive);
  shmstack::TarReader reader(source, 2);
  // The reader thread is at most a few frames in (the pipeline is bounded):
  // cut the file well past them, into data it has not read yet.
  REQUIRE(::truncate(archive.c_str(), 16 << 20) == 0);
  std::string error;
  try {
    while (archive_entry* entry = reader.next_header()) {
      static_cast<void>(entry);
      while (reader.read_block().size != 0) {
      }
    }
  } catch (const shmstack::Error& e) {
    error = e.what();
  }
  CHECK(error.find("became shorter while it was being read") != std::string::npos);
  CHECK(error.find(archive) != std::string::npos);
}
