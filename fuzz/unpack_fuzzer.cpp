// libFuzzer target: the whole unpack path (format detection, LZ4 frames and
// their trailers, libarchive's tar parser, the manifest, the extractor's
// path checks, the install protocol) fed an archive from memory, in one of
// the three ways the engine reads (chosen by the input's length): as a mapped
// file (frames used in place), as a stream (read into a buffer), or lent in
// pieces as bcast's ring does (frames used in place, straddling ones
// assembled; the piece size varies with the length too).
//
// Each input is installed into a fresh stack root inside a private scratch
// directory. Besides crashes and sanitizer reports, the target aborts when an
// input breaks the install rules: anything written beside the stack root,
// a staging directory left behind, or a "successful" install without its
// records. conda-unpack is never run (an input could otherwise carry a program).
//
//   scripts/fuzz [SECONDS]     builds (preset "fuzz") and runs it on fuzz/corpus
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "archive/byte_source.hpp"
#include "base/error.hpp"
#include "install/install.hpp"
#include "archive/manifest.hpp"

namespace {

class MemoryBytes final : public shmstack::InPlaceBytes {
 public:
  MemoryBytes(const std::uint8_t* data, std::size_t size) : bytes_(reinterpret_cast<const char*>(data), size) {}
  std::string_view bytes() const override { return bytes_; }

 private:
  std::string_view bytes_;
};

class MemorySource final : public shmstack::ByteSource {
 public:
  MemorySource(const std::uint8_t* data, std::size_t size) : data_(data), size_(size), whole_(data, size) {}
  shmstack::InPlaceBytes* in_place() override { return size_ % 3 == 0 && size_ > 0 ? &whole_ : nullptr; }
  bool lends_pieces() const override { return size_ % 3 == 2; }
  Piece next_piece() override {
    std::size_t n = std::min(std::size_t{61} + size_ % 4099, size_ - offset_);
    const char* at = reinterpret_cast<const char*>(data_) + offset_;
    offset_ += n;
    if (n == 0) return {};
    return {at, n, std::shared_ptr<const void>(std::shared_ptr<const void>(), at)};  // the input outlives the run
  }
  std::size_t read(char* buffer, std::size_t capacity) override {
    std::size_t n = std::min(capacity, size_ - offset_);
    std::memcpy(buffer, data_ + offset_, n);
    offset_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }
  std::uint64_t size_hint() const override { return size_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
  MemoryBytes whole_;
  std::string name_ = "fuzz-input.tar.lz4";
};

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "unpack_fuzzer: install rule broken: %s\n", what.c_str());
  std::abort();
}

// Removes a tree even where an input left directories without permissions.
void remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (!ec) return;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec))
    if (entry.is_directory(ec) && !entry.is_symlink(ec)) ::chmod(entry.path().c_str(), 0700);
  ::chmod(path.c_str(), 0700);
  std::filesystem::remove_all(path, ec);
  if (ec) broken("cannot clear " + path + ": " + ec.message());
}

// The scratch directory: made once per process, removed at exit, holding only "root".
class Scratch {
 public:
  Scratch() {
    const char* base = std::getenv("TMPDIR");
    path_ = std::string(base && *base ? base : "/tmp") + "/shmstack-fuzz-XXXXXX";
    if (!::mkdtemp(path_.data())) broken("cannot create a scratch directory under " + path_);
  }
  ~Scratch() { remove_tree(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string& scratch() {
  static const Scratch dir;
  return dir.path();
}

// The scratch directory holds only the root, the root only the user root, and
// the user root only .locks and complete stacks: anything else was written
// outside a stack ("../" escapes land here) or left behind by a failed install.
void check_tree(const std::string& root, const std::string& user_root) {
  auto only = [](const std::string& dir, const std::string& allowed) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
      if (entry.path().filename() != allowed) broken("written outside the stack: " + entry.path().string());
  };
  only(scratch(), "root");
  only(root, user_root.substr(root.size() + 1));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(user_root, ec)) {
    std::string name = entry.path().filename();
    if (name == ".locks") continue;
    struct stat st{};
    if (::lstat((entry.path().string() + "/.shmstack/install.json").c_str(), &st) != 0)
      broken("not a complete stack: " + entry.path().string());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string root = scratch() + "/root";
  remove_tree(root);
  ::mkdir(root.c_str(), 0755);

  shmstack::InstallOptions options;
  options.root = root;
  options.threads = 1;
  options.via = "fuzz";
  options.conda_unpack = false;
  MemorySource source(data, size);
  shmstack::Manifest fallback = shmstack::synthesize_manifest("fuzz-input.tar", size, 0);
  try {
    shmstack::InstallResult result = shmstack::install_archive(source, fallback, options);
    struct stat st{};
    if (::lstat((result.stack.path + "/.shmstack/install.json").c_str(), &st) != 0)
      broken("installed without install.json: " + result.stack.path);
  } catch (const shmstack::Error&) {
    // Refusing bad input is the expected outcome; anything else escapes and crashes.
  }
  check_tree(root, root + "/shmstack-" + std::to_string(::getuid()));
  return 0;
}
