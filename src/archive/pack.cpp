#include "archive/pack.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "base/busy_time.hpp"
#include "base/cancel.hpp"
#include "base/chunk_pipeline.hpp"
#include "archive/content_digest.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "archive/lz4_frames.hpp"
#include "archive/read_ahead.hpp"
#include "archive/tar_writer.hpp"
#include "base/path_check.hpp"
#include "base/path_class.hpp"
#include "base/progress.hpp"
#include "archive/relocation.hpp"
#include "base/version.hpp"

namespace shmstack {
namespace {

// Small files read ahead of the tar stream (read_ahead.hpp): by a helper for
// every 4 threads from -j 4 on (below that the compressors, not the stream,
// are the bound, and a helper would take their cores), at most this far ahead.
constexpr std::size_t kReadAheadBytes = std::size_t{16} << 20;
unsigned read_ahead_threads(unsigned threads) { return std::min(threads / 4, 8u); }

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

// Cuts the tar stream into the pipeline's chunks of lz4::kFrameContent bytes.
class ChunkCutter {
 public:
  explicit ChunkCutter(ChunkPipeline<TarChunk>& pipeline) : pipeline_(pipeline) {}

  void write(const char* p, std::size_t n) {
    while (n > 0) {
      if (!current_) {
        BusyTime::Span waiting(wait_time);
        current_ = &pipeline_.acquire();
        current_->in.resize(lz4::kFrameContent);
        current_->in_size = 0;
      }
      std::size_t take = std::min(current_->in.size() - current_->in_size, n);
      std::memcpy(current_->in.data() + current_->in_size, p, take);
      current_->in_size += take;
      p += take;
      n -= take;
      if (current_->in_size == current_->in.size()) submit();
    }
  }

  BusyTime wait_time;  // for a free chunk: every chunk is being compressed or written out

  // The last, partial chunk, and the end of the stream.
  void finish() {
    if (current_) submit();
    pipeline_.close();
  }

 private:
  void submit() {
    TarChunk* full = current_;
    current_ = nullptr;
    pipeline_.submit(*full);
  }

  ChunkPipeline<TarChunk>& pipeline_;
  TarChunk* current_ = nullptr;
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
  auto walk_start = std::chrono::steady_clock::now();
  plan.entries = walk_tree(options.dir, options.excludes, {}, options.threads);
  log::info("walk: %zu entries in %.3f s", plan.entries.size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - walk_start).count());
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
  // The tree may name itself as the user spelled it, as it resolves, or as
  // where it was built.
  std::vector<std::string> prefixes = {lexically_absolute(options.dir), m.source};
  for (const std::string& old : options.old_prefixes) {
    if (old.empty() || old[0] != '/') throw Error("cannot pack " + quote(options.dir), "old prefix " + quote(old) + " is not an absolute path");
    prefixes.push_back(normalize_path(old));
  }
  for (const std::string& prefix : prefixes)
    if (std::find(m.relocation.prefixes.begin(), m.relocation.prefixes.end(), prefix) == m.relocation.prefixes.end())
      m.relocation.prefixes.push_back(prefix);
  auto relocation_start = std::chrono::steady_clock::now();
  m.relocation.files = find_prefix_files(m.source, plan.entries, m.relocation.prefixes, options.threads);
  m.relocation.binaries = find_prefix_binaries(m.source, plan.entries, m.relocation.prefixes, options.threads);
  log::info("relocation scan: %zu text file(s), %zu binary(ies) in %.3f s", m.relocation.files.size(),
            m.relocation.binaries.size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - relocation_start).count());
  // The manifest is JSON: refuse now what could not be written at the end.
  if (std::string problem = manifest_text_problem(m); !problem.empty())
    throw Error("cannot pack " + quote(options.dir), "in the manifest, " + problem);
  auto scan_start = std::chrono::steady_clock::now();
  plan.leaks = find_leaks(m.source, plan.entries, m.relocation.prefixes, options.threads);
  log::info("leak check: %zu finding(s) in %.3f s", plan.leaks.size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - scan_start).count());
  bool links_in_prefix = std::any_of(plan.entries.begin(), plan.entries.end(), [&](const WalkEntry& e) {
    return e.type == WalkEntry::Type::symlink && relocate_link(e.link, m.relocation.prefixes, "") != e.link;
  });
  if (m.relocation.files.empty() && m.relocation.binaries.empty() && !links_in_prefix) m.relocation.prefixes.clear();
  // The id covers the files' bytes and the settings too (manifest.hpp): a
  // repack with other contents or settings never reuses an old install.
  auto digest_start = std::chrono::steady_clock::now();
  m.id = stack_id(plan.entries, content_digests(m.source, plan.entries, options.threads), m.activation, m.relocation);
  log::info("content digests: %s in %.3f s", human_bytes(m.bytes).c_str(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - digest_start).count());
  m.created = utc_now_iso8601();
  m.host = host_name();
  m.tool = std::string("shmstack ") + kVersion;
  return plan;
}

std::uint64_t write_archive(const PackOptions& options, const PackPlan& plan, ByteSink& sink) {
  int level = options.level;
  BusyTime compress_time, sink_time;
  auto compress = [level, &compress_time](TarChunk& chunk) {
    BusyTime::Span busy(compress_time);
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
        {
          BusyTime::Span writing(sink_time);
          sink.write(chunk->out.data(), chunk->out_size);
        }
        written += chunk->out_size;
        progress.advance(chunk->in_size);
        pipeline.release(*chunk);
      }
    });
  });
  auto started = std::chrono::steady_clock::now();
  try {
    ChunkCutter cutter(pipeline);
    ReadAhead ahead(plan.manifest.source, plan.entries, read_ahead_threads(options.threads), kReadAheadBytes);
    TarWriter tar(plan.manifest.source, [&cutter](const char* p, std::size_t n) { cutter.write(p, n); });
    tar.add_manifest(plan.manifest);
    for (std::size_t i = 0; i < plan.entries.size(); ++i) {
      std::optional<std::vector<char>> bytes = ahead.take(i);
      tar.add(plan.entries[i], bytes ? &*bytes : nullptr);
    }
    tar.finish();
    cutter.finish();
    double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    double reading = tar.read_seconds() + ahead.wait_seconds();
    log::info("tar stream %.2f s: opening and reading files %.2f s (small files read ahead by %u thread(s): "
              "waited %.2f s for them), waiting for a free chunk (held by the compressors or the output) %.2f s, "
              "tar headers and copies %.2f s; busy compressing %.2f s, summed over %u threads",
              total, reading, ahead.threads(), ahead.wait_seconds(), cutter.wait_time.seconds(),
              std::max(0.0, total - reading - cutter.wait_time.seconds()), compress_time.seconds(),
              std::max(1u, options.threads));
  } catch (...) {
    pipeline.fail(std::current_exception());
    writer.join();
    throw;
  }
  writer.join();
  pipeline.next();  // rethrows a failure of the sink thread, if any
  progress.done();
  log::info("archive written: %.2f s in the output's write calls", sink_time.seconds());
  return written;
}

}  // namespace shmstack
