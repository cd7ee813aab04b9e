#include "archive/mapped_file.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "archive/byte_sink.hpp"
#include "archive/byte_source.hpp"
#include "base/error.hpp"
#include "archive/pack.hpp"
#include "archive/tar_reader.hpp"
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

TEST_CASE("an empty file is read, not mapped") {
  TempDir dir;
  write_file(dir / "empty", "");
  shmstack::FileSource empty(dir / "empty");
  CHECK(empty.in_place() == nullptr);
}

TEST_CASE("a FIFO, a directory or a device is refused at once, even with no writer") {
  TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  // No writer: a blocking open() would wait forever (the test would hang).
  CHECK_THROWS_WITH_AS(shmstack::FileSource(dir / "fifo"),
                       ("cannot read archive '" + (dir / "fifo") + "': not a regular file (a FIFO)").c_str(),
                       shmstack::Error);
  CHECK_THROWS_WITH_AS(shmstack::FileSource(dir.path()),
                       ("cannot read archive '" + dir.path() + "': not a regular file (a directory)").c_str(),
                       shmstack::Error);
  CHECK_THROWS_WITH_AS(shmstack::FileSource("/dev/null"),
                       "cannot read archive '/dev/null': not a regular file (a character device)", shmstack::Error);
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

namespace {

// Archive bytes in memory.
class StringSink final : public shmstack::ByteSink {
 public:
  void write(const char* data, std::size_t size) override { bytes.append(data, size); }
  void commit() override {}
  std::string bytes;
};

// Lends an archive in pieces of `piece` bytes, as bcast's ring does, and
// counts the pieces still held by the reader.
class LendingSource final : public shmstack::ByteSource {
 public:
  LendingSource(const std::string& bytes, std::size_t piece) : bytes_(bytes), piece_(piece) {}
  std::size_t read(char* buffer, std::size_t capacity) override {
    std::size_t n = std::min(capacity, bytes_.size() - at_);
    std::memcpy(buffer, bytes_.data() + at_, n);
    at_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }
  bool lends_pieces() const override { return true; }
  Piece next_piece() override {
    std::size_t n = std::min(piece_, bytes_.size() - at_);
    if (n == 0) return {};
    auto hold = std::shared_ptr<const void>(bytes_.data() + at_, [this](const void*) { --held; });
    ++held;
    ++lent;
    Piece p{bytes_.data() + at_, n, std::move(hold)};
    at_ += n;
    return p;
  }
  std::atomic<int> held{0};  // holds are dropped on the decoding threads
  int lent = 0;

 private:
  const std::string& bytes_;
  std::size_t piece_;
  std::size_t at_ = 0;
  std::string name_ = "lent.tar.lz4";
};

}  // namespace

TEST_CASE("frames lent in pieces of any size are decoded where they lie, and every piece is given back") {
  TempDir dir;
  REQUIRE(::mkdir((dir / "tree").c_str(), 0755) == 0);
  // Several frames, some compressible (short) and some not (long): frame
  // boundaries fall everywhere relative to the pieces.
  std::map<std::string, std::string> files;
  for (int i = 0; i < 40; ++i) {
    std::string name = "f" + std::to_string(i);
    files[name] = i % 3 == 0 ? random_bytes(150000 + 977 * i, 10u + i) : std::string(200000 + 13 * i, static_cast<char>('a' + i % 26));
    write_file(dir / ("tree/" + name), files[name]);
  }
  shmstack::PackOptions options;
  options.dir = dir / "tree";
  shmstack::PackPlan plan = shmstack::plan_pack(options);
  StringSink sink;
  shmstack::write_archive(options, plan, sink);

  for (std::size_t piece : {std::size_t{1} << 20, std::size_t{65536}, std::size_t{4099}, std::size_t{7}}) {
    CAPTURE(piece);
    LendingSource source(sink.bytes, piece);
    std::map<std::string, std::string> got;
    {
      shmstack::TarReader reader(source, 2);
      while (archive_entry* entry = reader.next_header()) {
        std::string path = archive_entry_pathname(entry);
        if (archive_entry_filetype(entry) != AE_IFREG || path.rfind(".shmstack", 0) == 0) continue;
        std::string& content = got[path.substr(path.find('f'))];
        for (auto block = reader.read_block(); block.size != 0; block = reader.read_block())
          content.append(block.data, block.size);
      }
      CHECK(reader.compression() == "shmstack-lz4");
    }
    CHECK(got == files);
    CHECK(source.lent > 0);
    CHECK(source.held == 0);
  }
}
