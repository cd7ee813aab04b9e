#include "archive/content_digest.hpp"

#include <fcntl.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cerrno>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/parallel_for.hpp"
#include "base/regular_file.hpp"

namespace shmstack {
namespace {

// Each thread's read buffer (1 MiB), made on its first file.
thread_local std::vector<char> read_buffer;

std::uint64_t file_digest(const std::string& path, std::vector<char>& buffer) {
  int fd = open_regular_or_throw(path, O_NOFOLLOW);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      throw_system_error("cannot read " + quote(path), saved);
    }
    if (n == 0) break;
    XXH3_64bits_update(&state, buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return XXH3_64bits_digest(&state);
}

}  // namespace

std::vector<std::uint64_t> content_digests(const std::string& root, const std::vector<WalkEntry>& entries,
                                           unsigned threads) {
  std::vector<std::uint64_t> digests(entries.size(), 0);
  parallel_for(entries.size(), threads, [&](std::size_t i) {
    if (entries[i].type != WalkEntry::Type::file) return;
    check_cancelled();
    if (read_buffer.empty()) read_buffer.resize(std::size_t{1} << 20);
    digests[i] = file_digest(root + "/" + entries[i].path, read_buffer);
  });
  std::vector<char>().swap(read_buffer);  // the calling thread's; the helpers' went with them
  return digests;
}

}  // namespace shmstack
