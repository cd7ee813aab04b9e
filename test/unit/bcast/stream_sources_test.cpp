// Tests the byte sources of the broadcast's rank 0: replaying what was read
// while planning (the archive is read once), and the pipe from an on-the-fly
// pack into the broadcast.
#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "base/error.hpp"
#include "bcast/stream_sources.hpp"
#include "temp_dir.hpp"

namespace {

std::string read_all(shmstack::ByteSource& source, std::size_t piece) {
  std::string out;
  std::string buffer(piece, '\0');
  for (std::size_t n; (n = source.read(buffer.data(), piece)) > 0;) out.append(buffer.data(), n);
  return out;
}

}  // namespace

TEST_CASE("ReplaySource serves what was read while planning, then the rest, once") {
  shmstack::test::TempDir dir;
  std::string data(100000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 253);
  std::string path = dir.path() + "/a";
  std::ofstream(path, std::ios::binary) << data;
  shmstack::ReplaySource source(std::make_unique<shmstack::FileSource>(path));
  std::string head(7000, '\0');
  std::size_t got = 0;
  while (got < 5000) got += source.read(head.data() + got, 7000 - got);
  CHECK(source.recorded() == got);
  source.rewind();
  CHECK_THROWS_AS(source.rewind(), shmstack::Error);
  CHECK(read_all(source, 4096) == data);
  CHECK(source.recorded() == 0);  // freed once replayed
}

TEST_CASE("BytePipe carries a writer's bytes to the reader, bounded") {
  shmstack::BytePipe pipe("dir", 1 << 16);
  std::string data(1 << 20, 'x');
  for (std::size_t i = 0; i < data.size(); i += 4099) data[i] = static_cast<char>(i % 127);
  std::thread writer([&] {
    for (std::size_t at = 0; at < data.size(); at += 10007) pipe.write(data.data() + at, std::min<std::size_t>(10007, data.size() - at));
    pipe.commit();
  });
  CHECK(read_all(pipe, 3000) == data);
  writer.join();
}

TEST_CASE("BytePipe passes the writer's failure on, and a stopped reader frees the writer") {
  shmstack::BytePipe failing("dir", 1 << 16);
  failing.write("abc", 3);
  failing.fail(std::make_exception_ptr(shmstack::Error("cannot read 'dir/f'", "file changed as we read it")));
  char buffer[16];
  CHECK(failing.read(buffer, sizeof buffer) == 3);
  CHECK_THROWS_WITH_AS(failing.read(buffer, sizeof buffer), doctest::Contains("file changed"), shmstack::Error);

  shmstack::BytePipe stopped("dir", 8);
  std::string error;
  std::thread writer([&] {
    try {
      for (;;) stopped.write("0123456789", 10);
    } catch (const shmstack::Error& e) {
      error = e.what();
    }
  });
  CHECK(stopped.read(buffer, 4) == 4);
  stopped.interrupt();
  writer.join();
  CHECK(error.find("stopped reading") != std::string::npos);
}
