#include "archive/pack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>

#include "base/cancel.hpp"
#include "base/chunk_pipeline.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "archive/lz4_frames.hpp"
#include "base/path_check.hpp"
#include "base/progress.hpp"
#include "archive/relocation.hpp"
#include "base/version.hpp"

namespace shmstack {
namespace {

struct TarChunk : ChunkBase {
  std::vector<char> in;
  std::size_t in_size = 0;
  std::vector<char> out;
  std::size_t out_size = 0;
};

std::string base_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  std::size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Writes the tar stream through libarchive into chunks of the pipeline.
class TarProducer {
 public:
  TarProducer(ChunkPipeline<TarChunk>& pipeline, const std::string& root)
      : pipeline_(pipeline), root_(root), buffer_(std::size_t{1} << 20) {
    ar_ = archive_write_new();
    if (!ar_) throw Error("pack", "out of memory");
    archive_write_set_format_pax(ar_);
    archive_write_set_bytes_per_block(ar_, 0);  // no blocking: chunks cut the stream anyway
    if (archive_write_open2(ar_, this, nullptr, &TarProducer::write_callback, nullptr, nullptr) != ARCHIVE_OK)
      fail("cannot start the tar writer");
    entry_ = archive_entry_new();
  }

  ~TarProducer() {
    archive_entry_free(entry_);
    archive_write_free(ar_);
  }

  void add_manifest(const Manifest& manifest) {
    std::string text = to_json(manifest);
    archive_entry_clear(entry_);
    archive_entry_copy_pathname(entry_, kManifestEntry);
    archive_entry_set_filetype(entry_, AE_IFREG);
    archive_entry_set_perm(entry_, 0644);
    archive_entry_set_size(entry_, static_cast<la_int64_t>(text.size()));
    archive_entry_set_mtime(entry_, std::time(nullptr), 0);
    header(kManifestEntry);
    data(text.data(), text.size(), kManifestEntry);
  }

  void add(const WalkEntry& e) {
    check_cancelled();
    archive_entry_clear(entry_);
    archive_entry_copy_pathname(entry_, e.path.c_str());
    archive_entry_set_perm(entry_, e.mode);
    archive_entry_set_mtime(entry_, e.mtime_sec, static_cast<long>(e.mtime_nsec));
    switch (e.type) {
      case WalkEntry::Type::directory:
        archive_entry_set_filetype(entry_, AE_IFDIR);
        header(e.path);
        return;
      case WalkEntry::Type::symlink:
        archive_entry_set_filetype(entry_, AE_IFLNK);
        archive_entry_copy_symlink(entry_, e.link.c_str());
        header(e.path);
        return;
      case WalkEntry::Type::hardlink:
        archive_entry_set_filetype(entry_, AE_IFREG);
        archive_entry_copy_hardlink(entry_, e.link.c_str());
        archive_entry_set_size(entry_, 0);
        header(e.path);
        return;
      case WalkEntry::Type::file:
        archive_entry_set_filetype(entry_, AE_IFREG);
        archive_entry_set_size(entry_, static_cast<la_int64_t>(e.size));
        header(e.path);
        file_data(e);
        return;
    }
  }

  void finish() {
    if (archive_write_close(ar_) != ARCHIVE_OK) fail("cannot finish the tar stream");
    if (current_ && current_->in_size > 0) {
      pipeline_.submit(*current_);
      current_ = nullptr;
    }
    if (current_) pipeline_.release(*current_);
    current_ = nullptr;
    pipeline_.close();
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    if (error_) std::rethrow_exception(error_);
    throw Error(what, archive_error_string(ar_) ? archive_error_string(ar_) : "libarchive error");
  }

  void header(const std::string& path) {
    if (archive_write_header(ar_, entry_) < ARCHIVE_WARN) fail("cannot add " + quote(path) + " to the archive");
  }

  void data(const char* p, std::size_t n, const std::string& path) {
    while (n > 0) {
      la_ssize_t w = archive_write_data(ar_, p, n);
      if (w < 0) fail("cannot add " + quote(path) + " to the archive");
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }

  void file_data(const WalkEntry& e) {
    std::string full = root_ + "/" + e.path;
    int fd = ::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open", full);
    std::uint64_t left = e.size;
    try {
      while (left > 0) {
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer_.size()));
        ssize_t n = ::read(fd, buffer_.data(), want);
        if (n < 0 && errno == EINTR) {
          check_cancelled();
          continue;
        }
        if (n < 0) throw_errno("cannot read", full);
        if (n == 0) throw Error("cannot pack " + quote(full), "file shrank while it was being packed");
        data(buffer_.data(), static_cast<std::size_t>(n), e.path);
        left -= static_cast<std::uint64_t>(n);
      }
      char probe;
      if (::read(fd, &probe, 1) > 0) throw Error("cannot pack " + quote(full), "file grew while it was being packed");
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
  }

  la_ssize_t write(const char* p, std::size_t n) {
    try {
      std::size_t left = n;
      while (left > 0) {
        if (!current_) {
          current_ = &pipeline_.acquire();
          current_->in.resize(lz4::kFrameContent);
          current_->in_size = 0;
        }
        std::size_t room = current_->in.size() - current_->in_size;
        std::size_t take = std::min(room, left);
        std::memcpy(current_->in.data() + current_->in_size, p, take);
        current_->in_size += take;
        p += take;
        left -= take;
        if (current_->in_size == current_->in.size()) {
          TarChunk* full = current_;
          current_ = nullptr;
          pipeline_.submit(*full);
        }
      }
      return static_cast<la_ssize_t>(n);
    } catch (...) {
      if (!error_) error_ = std::current_exception();
      archive_set_error(ar_, EIO, "write failed");
      return -1;
    }
  }

  static la_ssize_t write_callback(archive*, void* self, const void* p, size_t n) {
    return static_cast<TarProducer*>(self)->write(static_cast<const char*>(p), n);
  }

  ChunkPipeline<TarChunk>& pipeline_;
  std::string root_;
  std::vector<char> buffer_;
  archive* ar_ = nullptr;
  archive_entry* entry_ = nullptr;
  TarChunk* current_ = nullptr;
  std::exception_ptr error_;
};

}  // namespace

Activation apply_overrides(Activation a, const ActivationOverrides& o, bool has_bin) {
  if (!o.kind.empty()) a = activation_for_kind(o.kind, has_bin);
  auto add = [](std::vector<std::string>& to, const std::vector<std::string>& more) {
    for (const std::string& dir : more)
      if (std::find(to.begin(), to.end(), dir) == to.end()) to.push_back(dir);
  };
  add(a.path, o.path);
  add(a.pythonpath, o.pythonpath);
  add(a.ld_library_path, o.ld_library_path);
  for (const auto& setting : o.set) {
    auto it = std::find_if(a.set.begin(), a.set.end(), [&](const auto& kv) { return kv.first == setting.first; });
    if (it != a.set.end()) {
      it->second = setting.second;
    } else {
      a.set.push_back(setting);
    }
  }
  if (std::string problem = check_activation(a); !problem.empty()) throw Error("invalid activation", problem);
  return a;
}

PackPlan plan_pack(const PackOptions& options) {
  struct stat st{};
  if (::stat(options.dir.c_str(), &st) != 0) throw_errno("cannot pack", options.dir);
  if (!S_ISDIR(st.st_mode)) throw Error("cannot pack " + quote(options.dir), "not a directory");
  PackPlan plan;
  plan.entries = walk_tree(options.dir, options.excludes);
  plan.manifest = manifest_for(plan.entries);
  Manifest& m = plan.manifest;
  m.source = resolved_path(options.dir);
  m.name = options.name.empty() ? sanitize_stack_name(base_name(m.source)) : options.name;
  if (std::string problem = check_stack_name(m.name); !problem.empty())
    throw Error("cannot pack " + quote(options.dir), "invalid stack name " + quote(m.name) + ": " + problem);
  bool has_bin = std::any_of(plan.entries.begin(), plan.entries.end(), [](const WalkEntry& e) {
    return e.path == "bin" && e.type == WalkEntry::Type::directory;
  });
  m.activation = apply_overrides(m.activation, options.activation, has_bin);
  // The tree may name itself as the user spelled it or as it resolves.
  for (std::string prefix : {lexically_absolute(options.dir), m.source})
    if (std::find(m.relocation.prefixes.begin(), m.relocation.prefixes.end(), prefix) == m.relocation.prefixes.end())
      m.relocation.prefixes.push_back(prefix);
  m.relocation.files = find_prefix_files(m.source, plan.entries, m.relocation.prefixes);
  auto scan_start = std::chrono::steady_clock::now();
  plan.leaks = find_leaks(m.source, plan.entries, m.relocation.prefixes);
  log::info("leak check: %zu finding(s) in %.3f s", plan.leaks.size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - scan_start).count());
  if (m.relocation.files.empty()) m.relocation.prefixes.clear();
  m.created = utc_now_iso8601();
  m.host = host_name();
  m.tool = std::string("shmstack ") + kVersion;
  return plan;
}

std::uint64_t write_archive(const PackOptions& options, const PackPlan& plan, ByteSink& sink) {
  int level = options.level;
  auto compress = [level](TarChunk& chunk) {
    thread_local std::unique_ptr<lz4::Compressor> compressor;
    if (!compressor || compressor->level() != level) compressor = std::make_unique<lz4::Compressor>(level);
    chunk.out_size = compressor->encode(chunk.in.data(), chunk.in_size, chunk.seq, chunk.out);
  };
  unsigned workers = options.threads > 1 ? options.threads : 0;
  ChunkPipeline<TarChunk> pipeline(workers, 2 * std::max(1u, options.threads) + 2, compress);

  std::uint64_t written = 0;
  Progress progress("packing " + plan.manifest.name, plan.manifest.bytes, options.progress);
  std::thread writer([&] {
    pipeline.guard([&] {
      while (TarChunk* chunk = pipeline.next()) {
        sink.write(chunk->out.data(), chunk->out_size);
        written += chunk->out_size;
        progress.advance(chunk->in_size);
        pipeline.release(*chunk);
      }
    });
  });
  try {
    TarProducer producer(pipeline, plan.manifest.source);
    producer.add_manifest(plan.manifest);
    for (const WalkEntry& e : plan.entries) producer.add(e);
    producer.finish();
  } catch (...) {
    pipeline.fail(std::current_exception());
    writer.join();
    throw;
  }
  writer.join();
  pipeline.next();  // rethrows a failure of the sink thread, if any
  progress.done();
  return written;
}

}  // namespace shmstack
