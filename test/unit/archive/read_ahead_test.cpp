// Tests read_ahead: small files read ahead in the walk's order, larger ones left to the
// caller, a helper's failure thrown at its entry, a budget smaller than what is ahead,
// and a file that became a FIFO since the walk (an error, not a hang).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "archive/content_digest.hpp"
#include "archive/read_ahead.hpp"
#include "archive/walk.hpp"
#include "base/error.hpp"
#include "temp_dir.hpp"

namespace {

shmstack::WalkEntry file_entry(const std::string& path, std::uint64_t size) {
  shmstack::WalkEntry e;
  e.path = path;
  e.size = size;
  return e;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  REQUIRE(out.good());
}

std::string content_of(int i) { return std::string(static_cast<std::size_t>(1000 + i * 37), static_cast<char>('a' + i % 26)); }

// Files f0 .. f<count-1> in `dir`, with content_of(i), and their walk entries.
std::vector<shmstack::WalkEntry> numbered_files(const shmstack::test::TempDir& dir, int count) {
  std::vector<shmstack::WalkEntry> entries;
  for (int i = 0; i < count; ++i) {
    write_file(dir / ("f" + std::to_string(i)), content_of(i));
    entries.push_back(file_entry("f" + std::to_string(i), content_of(i).size()));
  }
  return entries;
}

}  // namespace

TEST_CASE("ReadAhead hands every small file's bytes in order, leaves large files and other entries to the caller") {
  shmstack::test::TempDir dir;
  std::vector<shmstack::WalkEntry> entries;
  for (int i = 0; i < 300; ++i) {
    std::string name = "f" + std::to_string(i);
    write_file(dir / name, content_of(i));
    entries.push_back(file_entry(name, content_of(i).size()));
    if (i % 50 == 0) {
      shmstack::WalkEntry d;
      d.path = "d" + std::to_string(i);
      d.type = shmstack::WalkEntry::Type::directory;
      entries.push_back(d);
    }
  }
  write_file(dir / "large", std::string(shmstack::kMaxReadAheadFile + 1, 'L'));
  entries.insert(entries.begin() + 100, file_entry("large", shmstack::kMaxReadAheadFile + 1));
  for (unsigned threads : {0u, 1u, 3u}) {
    CAPTURE(threads);
    // A budget of one file at most: the helpers wait for the caller all along.
    shmstack::ReadAhead ahead(dir.path(), entries, threads, 1);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      std::optional<std::vector<char>> bytes = ahead.take(i);
      const shmstack::WalkEntry& e = entries[i];
      bool read_ahead = threads > 0 && e.type == shmstack::WalkEntry::Type::file && e.path != "large";
      REQUIRE(bytes.has_value() == read_ahead);
      if (bytes) CHECK(std::string(bytes->begin(), bytes->end()) == content_of(std::stoi(e.path.substr(1))));
    }
  }
}

TEST_CASE("ReadAhead throws a helper's failure at its entry, after the entries before it") {
  shmstack::test::TempDir dir;
  std::vector<shmstack::WalkEntry> entries = numbered_files(dir, 40);
  entries[10].size += 1;  // shrank since the walk
  entries[20].size -= 1;  // grew
  entries[30].path = "missing";
  // Replaced by a FIFO since the walk: opening it must not wait for a writer.
  std::remove((dir / "f35").c_str());
  REQUIRE(::mkfifo((dir / "f35").c_str(), 0600) == 0);
  for (unsigned threads : {1u, 4u}) {
    CAPTURE(threads);
    shmstack::ReadAhead ahead(dir.path(), entries, threads, 4096);
    std::vector<std::string> failures;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      try {
        bool read_ahead = ahead.take(i).has_value();
        CHECK(read_ahead);
      } catch (const shmstack::Error& e) {
        failures.push_back(std::to_string(i) + ": " + e.what());
      }
    }
    REQUIRE(failures.size() == 4);
    CHECK(failures[0].find("10: ") == 0);
    CHECK(failures[0].find("file shrank while it was being packed") != std::string::npos);
    CHECK(failures[1].find("20: ") == 0);
    CHECK(failures[1].find("file grew while it was being packed") != std::string::npos);
    CHECK(failures[2].find("30: cannot open") == 0);
    CHECK(failures[2].find("missing") != std::string::npos);
    CHECK(failures[3] == "35: cannot open '" + (dir / "f35") + "': not a regular file (a FIFO)");
  }
}

TEST_CASE("ReadAhead stops its helpers when the caller gives up part-way") {
  shmstack::test::TempDir dir;
  std::vector<shmstack::WalkEntry> entries = numbered_files(dir, 100);
  shmstack::ReadAhead ahead(dir.path(), entries, 2, 1);
  CHECK(ahead.take(0).has_value());
  CHECK(ahead.take(1).has_value());
  // The destructor returns although 98 entries were never taken.
}

TEST_CASE("pack's own readers refuse a FIFO put in a file's place since the walk, without waiting for a writer") {
  shmstack::test::TempDir dir;
  std::vector<shmstack::WalkEntry> entries = numbered_files(dir, 3);
  std::remove((dir / "f1").c_str());
  REQUIRE(::mkfifo((dir / "f1").c_str(), 0600) == 0);
  std::string expected = "cannot open '" + (dir / "f1") + "': not a regular file (a FIFO)";
  CHECK_THROWS_WITH_AS(shmstack::SourceFile(dir / "f1", entries[1].size), expected.c_str(), shmstack::Error);
  CHECK_THROWS_WITH_AS(shmstack::content_digests(dir.path(), entries, 2), expected.c_str(), shmstack::Error);
}
