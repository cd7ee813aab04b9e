// Tests file_writer: FileWriterPool inline and threaded, error reporting, and no writing through symlinks.
#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "install/file_writer.hpp"
#include "temp_dir.hpp"

namespace {

// Sets the umask for one test and puts the old one back.
class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : saved_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(saved_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

 private:
  mode_t saved_;
};

// An O_DIRECTORY descriptor, closed at scope exit.
class DirFd {
 public:
  explicit DirFd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    REQUIRE(fd_ >= 0);
  }
  ~DirFd() { ::close(fd_); }
  DirFd(const DirFd&) = delete;
  DirFd& operator=(const DirFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0;
}

void make_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  REQUIRE(out.good());
}

shmstack::FileJob job(std::string path, const std::string& content, mode_t mode = 0644) {
  shmstack::FileJob j;
  j.path = std::move(path);
  j.mode = mode;
  std::memcpy(j.allocate(content.size()), content.data(), content.size());
  return j;
}

}  // namespace

TEST_CASE("FileWriterPool writes content, mode and mtime") {
  UmaskGuard umask(0);
  const mode_t modes[] = {0600, 0644, 0755, 0640, 0700, 0444};
  for (unsigned threads : {0u, 3u}) {
    CAPTURE(threads);
    shmstack::test::TempDir dir;
    REQUIRE(::mkdir((dir / "sub").c_str(), 0755) == 0);
    DirFd dirfd(dir.path());
    std::mt19937_64 random(threads);
    struct Expected {
      std::string path;
      mode_t mode;
      timespec mtime;
      std::string content;
    };
    std::vector<Expected> expected;
    {
      shmstack::FileWriterPool pool(dirfd.get(), dir.path(), threads, 64 * 1024);
      for (int i = 0; i < 150; ++i) {
        std::string content(static_cast<std::size_t>(i % 50) * 517, '\0');
        for (char& c : content) c = static_cast<char>(random());
        Expected e{(i % 7 == 0 ? "sub/file" : "file") + std::to_string(i), modes[i % 6],
                   {1600000000 + i, i * 1000003L}, content};
        shmstack::FileJob j = job(e.path, content, e.mode);
        j.mtime = e.mtime;
        pool.submit(std::move(j));
        expected.push_back(std::move(e));
      }
      pool.drain();
    }
    for (const Expected& e : expected) {
      CAPTURE(e.path);
      std::string path = dir / e.path;
      struct stat st{};
      REQUIRE(::lstat(path.c_str(), &st) == 0);
      CHECK(S_ISREG(st.st_mode));
      CHECK((st.st_mode & 07777) == e.mode);
      CHECK(st.st_mtim.tv_sec == e.mtime.tv_sec);
      CHECK(st.st_mtim.tv_nsec == e.mtime.tv_nsec);
      CHECK(read_file(path) == e.content);
    }
  }
}

TEST_CASE("FileWriterPool leaves the mtime alone when none is given") {
  UmaskGuard umask(0);
  for (unsigned threads : {0u, 3u}) {
    CAPTURE(threads);
    shmstack::test::TempDir dir;
    DirFd dirfd(dir.path());
    shmstack::FileWriterPool pool(dirfd.get(), dir.path(), threads, 1024);
    pool.submit(job("now", "x"));
    pool.drain();
    struct stat st{};
    REQUIRE(::stat((dir / "now").c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_sec >= std::time(nullptr) - 60);
  }
}

TEST_CASE("FileWriterPool takes jobs larger than max_bytes_in_flight") {
  auto content = [](int i) { return std::string(300000, static_cast<char>('a' + i)); };
  shmstack::test::TempDir dir;
  DirFd dirfd(dir.path());
  {
    shmstack::FileWriterPool pool(dirfd.get(), dir.path(), 3, 100000);
    for (int i = 0; i < 12; ++i) pool.submit(job("big" + std::to_string(i), content(i)));
    pool.drain();
  }
  for (int i = 0; i < 12; ++i) CHECK(read_file(dir / ("big" + std::to_string(i))) == content(i));
}

TEST_CASE("inline FileWriterPool throws from submit() when the file exists") {
  shmstack::test::TempDir dir;
  make_file(dir / "exists.txt", "original");
  DirFd dirfd(dir.path());
  shmstack::FileWriterPool pool(dirfd.get(), "the stack", 0, 1024);
  try {
    pool.submit(job("exists.txt", "replacement"));
    FAIL("submit() wrote over an existing file");
  } catch (const shmstack::Error& error) {
    CHECK(error.operation().find("'exists.txt'") != std::string::npos);
    CHECK(error.operation().find("'the stack'") != std::string::npos);
    CHECK(error.reason() == std::strerror(EEXIST));
  }
  CHECK(read_file(dir / "exists.txt") == "original");
}

TEST_CASE("threaded FileWriterPool rethrows a failure from drain()") {
  shmstack::test::TempDir dir;
  make_file(dir / "exists.txt", "original");
  DirFd dirfd(dir.path());
  shmstack::FileWriterPool pool(dirfd.get(), "the stack", 3, 1024);
  pool.submit(job("fine.txt", "fine"));
  pool.submit(job("exists.txt", "replacement"));
  try {
    pool.drain();
    FAIL("drain() did not report the failure");
  } catch (const shmstack::Error& error) {
    CHECK(error.operation().find("'exists.txt'") != std::string::npos);
    CHECK(error.reason() == std::strerror(EEXIST));
  }
  CHECK(read_file(dir / "exists.txt") == "original");
  CHECK_THROWS_AS(pool.drain(), shmstack::Error);
}

// file_writer.hpp: "The first failure is kept and rethrown by the next submit()
// or drain()". Since jobs are batched, submit() looks at the failure only when
// it hands over a batch (every 64 files or 1 MiB), so the next submit() after a
// known failure returns normally.
TEST_CASE("threaded FileWriterPool rethrows a known failure from the next submit()") {
  shmstack::test::TempDir dir;
  make_file(dir / "exists.txt", "original");
  DirFd dirfd(dir.path());
  shmstack::FileWriterPool pool(dirfd.get(), "the stack", 3, 1024);
  pool.submit(job("exists.txt", "replacement"));
  CHECK_THROWS_AS(pool.drain(), shmstack::Error);
  CHECK_THROWS_AS(pool.submit(job("after.txt", "x")), shmstack::Error);
}

TEST_CASE("threaded FileWriterPool rethrows a failure from a later submit()") {
  shmstack::test::TempDir dir;
  make_file(dir / "exists.txt", "original");
  DirFd dirfd(dir.path());
  shmstack::FileWriterPool pool(dirfd.get(), "the stack", 3, 1024);
  pool.submit(job("exists.txt", "replacement"));
  bool thrown = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (int i = 0; !thrown && std::chrono::steady_clock::now() < deadline; ++i) {
    try {
      pool.submit(job("later" + std::to_string(i), "x"));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } catch (const shmstack::Error& error) {
      thrown = true;
      CHECK(error.reason() == std::strerror(EEXIST));
    }
  }
  CHECK(thrown);
  CHECK(read_file(dir / "exists.txt") == "original");
}

TEST_CASE("create_file refuses an existing symlink name") {
  UmaskGuard umask(0);
  shmstack::test::TempDir dir;
  REQUIRE(::mkdir((dir / "stack").c_str(), 0755) == 0);
  REQUIRE(::mkdir((dir / "outside").c_str(), 0755) == 0);
  make_file(dir / "outside/existing", "keep me");
  REQUIRE(::symlink((dir / "outside/victim").c_str(), (dir / "stack/dangling").c_str()) == 0);
  REQUIRE(::symlink("../outside/existing", (dir / "stack/to_existing").c_str()) == 0);
  DirFd stack(dir / "stack");

  CHECK_THROWS_AS(shmstack::create_file(stack.get(), "dangling", 0644, "stack"), shmstack::Error);
  CHECK_FALSE(exists(dir / "outside/victim"));
  CHECK_THROWS_AS(shmstack::create_file(stack.get(), "to_existing", 0644, "stack"), shmstack::Error);
  CHECK(read_file(dir / "outside/existing") == "keep me");

  for (unsigned threads : {0u, 3u}) {
    CAPTURE(threads);
    shmstack::FileWriterPool pool(stack.get(), "stack", threads, 1024);
    CHECK_THROWS_AS(
        {
          pool.submit(job("dangling", "evil"));
          pool.drain();
        },
        shmstack::Error);
  }
  CHECK_FALSE(exists(dir / "outside/victim"));
  CHECK(read_file(dir / "outside/existing") == "keep me");
}

TEST_CASE("create_file, write_at and finish_file write a file piece by piece") {
  UmaskGuard umask(0);
  shmstack::test::TempDir dir;
  DirFd dirfd(dir.path());
  int fd = shmstack::create_file(dirfd.get(), "pieces", 0751, dir.path());
  const std::string tail = "world";
  const std::string head = "hello ";
  shmstack::write_at(fd, tail.data(), tail.size(), head.size(), "pieces", dir.path());
  shmstack::write_at(fd, head.data(), head.size(), 0, "pieces", dir.path());
  shmstack::finish_file(fd, {1234567890, 987654321}, "pieces", dir.path());

  CHECK(read_file(dir / "pieces") == "hello world");
  struct stat st{};
  REQUIRE(::stat((dir / "pieces").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0751);
  CHECK(st.st_mtim.tv_sec == 1234567890);
  CHECK(st.st_mtim.tv_nsec == 987654321);
  CHECK(::fcntl(fd, F_GETFD) == -1);  // closed
}

TEST_CASE("create_file refuses an existing file and a missing parent") {
  shmstack::test::TempDir dir;
  make_file(dir / "there", "x");
  DirFd dirfd(dir.path());
  try {
    shmstack::create_file(dirfd.get(), "there", 0644, "shown");
    FAIL("create_file opened an existing file");
  } catch (const shmstack::Error& error) {
    CHECK(error.reason() == std::strerror(EEXIST));
  }
  CHECK_THROWS_AS(shmstack::create_file(dirfd.get(), "no/such/dir", 0644, "shown"), shmstack::Error);
}

TEST_CASE("a job's content may come in two pieces (a file straddling two chunks), written as one file") {
  UmaskGuard umask(0);
  for (unsigned threads : {0u, 2u}) {
    CAPTURE(threads);
    shmstack::test::TempDir dir;
    DirFd dirfd(dir.path());
    auto chunk_a = std::make_shared<std::string>(300000, 'a');
    auto chunk_b = std::make_shared<std::string>("tail of the file, in the next chunk");
    {
      shmstack::FileWriterPool pool(dirfd.get(), dir.path(), threads, 1 << 20);
      shmstack::FileJob j;
      j.path = "straddling";
      CHECK(j.add(chunk_a->data() + 1000, chunk_a->size() - 1000, chunk_a));
      CHECK(j.add(chunk_b->data(), 4, chunk_b));
      CHECK_FALSE(j.add(chunk_b->data() + 4, 1, chunk_b));  // no room for a third piece
      CHECK(j.size == chunk_a->size() - 1000 + 4);
      pool.submit(std::move(j));
      shmstack::FileJob empty;
      empty.path = "empty";
      pool.submit(std::move(empty));
      pool.drain();
    }
    CHECK(read_file(dir / "straddling") == std::string(299000, 'a') + "tail");
    CHECK(read_file(dir / "empty").empty());
    CHECK(chunk_a.use_count() == 1);  // the written job let go of its chunks
  }
}

namespace {

int open_fd_count() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir)) ++count;
    ::closedir(dir);
  }
  return count;
}

}  // namespace

TEST_CASE("a large file's ranges, written by several writers in any order, make the file, and the last sets its mtime") {
  UmaskGuard umask(0);
  constexpr std::size_t kRange = 64 * 1024;
  constexpr std::size_t kRanges = 48;
  std::string content(kRange * kRanges - 1000, '\0');  // the last range is short
  std::mt19937_64 random(7);
  for (char& c : content) c = static_cast<char>(random());
  for (unsigned threads : {0u, 1u, 4u}) {
    CAPTURE(threads);
    shmstack::test::TempDir dir;
    DirFd dirfd(dir.path());
    const timespec mtime{1500000000, 123456789};
    auto chunk = std::make_shared<std::string>(content);
    {
      shmstack::FileWriterPool pool(dirfd.get(), dir.path(), threads, 4 * kRange);
      int fd = shmstack::create_file(dirfd.get(), "big", 0555, dir.path());
      REQUIRE(::ftruncate(fd, static_cast<off_t>(content.size())) == 0);
      auto file = std::make_shared<shmstack::OpenFile>(fd, "big", mtime);
      std::vector<std::size_t> order(kRanges);
      for (std::size_t i = 0; i < kRanges; ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), random);
      for (std::size_t i : order) {
        shmstack::FileJob range;
        range.path = "big";
        range.file = file;
        range.offset = i * kRange;
        range.add(chunk->data() + range.offset, std::min(kRange, content.size() - range.offset), chunk);
        file->hold();
        pool.submit(std::move(range));
      }
      file->release(dir.path());
      pool.drain();
      CHECK(file->fd() == -1);  // finished: closed by whoever ended the last range
    }
    struct stat st{};
    REQUIRE(::stat((dir / "big").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0555);
    // Set after the last write (a write after it would have moved it to now).
    CHECK(st.st_mtim.tv_sec == mtime.tv_sec);
    CHECK(st.st_mtim.tv_nsec == mtime.tv_nsec);
    CHECK(read_file(dir / "big") == content);
    CHECK(chunk.use_count() == 1);  // every range let go of the chunk
  }
}

TEST_CASE("a failed range is reported with the file's name, and the file's descriptor is closed") {
  shmstack::test::TempDir dir;
  DirFd dirfd(dir.path());
  make_file(dir / "readonly", "x");
  int before = open_fd_count();
  for (unsigned threads : {0u, 2u}) {
    CAPTURE(threads);
    {
      shmstack::FileWriterPool pool(dirfd.get(), "the stack", threads, 1 << 20);
      // A descriptor that cannot be written: every range fails.
      auto file = std::make_shared<shmstack::OpenFile>(::open((dir / "readonly").c_str(), O_RDONLY | O_CLOEXEC),
                                                       "lib/big.so", timespec{0, UTIME_OMIT});
      REQUIRE(file->fd() >= 0);
      std::string bytes(1000, 'b');
      try {
        for (int i = 0; i < 3; ++i) {
          shmstack::FileJob range;
          range.path = "lib/big.so";
          range.file = file;
          range.offset = static_cast<std::uint64_t>(i) * bytes.size();
          range.add(bytes.data(), bytes.size(), nullptr);
          file->hold();
          pool.submit(std::move(range));
        }
        pool.drain();
        FAIL("a write to a read-only descriptor succeeded");
      } catch (const shmstack::Error& e) {
        CHECK(std::string(e.what()).find("lib/big.so") != std::string::npos);
      }
    }
    CHECK(open_fd_count() == before);
  }
}

TEST_CASE("with 4 writers a range whose file is being written goes through a mapping, with fewer it waits its turn") {
  UmaskGuard umask(0);
  constexpr std::size_t kRange = 3 * 4096 + 100;  // ranges that share pages with their neighbours
  constexpr std::size_t kRanges = 16;
  std::string content(kRange * kRanges, '\0');
  std::mt19937_64 random(11);
  for (char& c : content) c = static_cast<char>(random());
  for (unsigned threads : {2u, 4u}) {
    CAPTURE(threads);
    shmstack::test::TempDir dir;
    DirFd dirfd(dir.path());
    auto chunk = std::make_shared<std::string>(content);
    bool done_while_held = false;
    {
      shmstack::FileWriterPool pool(dirfd.get(), dir.path(), threads, content.size());
      int fd = shmstack::create_file(dirfd.get(), "big", 0444, dir.path());
      REQUIRE(::ftruncate(fd, static_cast<off_t>(content.size())) == 0);
      auto file = std::make_shared<shmstack::OpenFile>(fd, "big", timespec{0, UTIME_OMIT});
      // As if another writer were writing the file all along.
      std::unique_lock other_writer(file->write_mutex());
      for (std::size_t i = 0; i < kRanges; ++i) {
        shmstack::FileJob range;
        range.path = "big";
        range.file = file;
        range.offset = i * kRange;
        range.add(chunk->data() + range.offset, kRange, chunk);
        file->hold();
        pool.submit(std::move(range));
      }
      pool.flush();
      for (int i = 0; i < 100 && chunk.use_count() > 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      done_while_held = chunk.use_count() == 1;  // every range written and let go
      other_writer.unlock();
      file->release(dir.path());
      pool.drain();
    }
    CHECK(done_while_held == (threads >= 4));
    CHECK(read_file(dir / "big") == content);
  }
}
