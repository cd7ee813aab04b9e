#include "install/install.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "archive/tar_reader.hpp"
#include "archive/walk.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/path_check.hpp"
#include "base/progress.hpp"
#include "base/spawn.hpp"
#include "install/extractor.hpp"

namespace shmstack {
namespace {

constexpr std::uint64_t kMaxManifestBytes = std::uint64_t{1} << 20;

// Modes must come out exactly as archived, so the umask is off while we
// write into the (private, 0700) staging directory.
class UmaskGuard {
 public:
  UmaskGuard() : saved_(::umask(0)) {}
  ~UmaskGuard() { ::umask(saved_); }

 private:
  mode_t saved_;
};

}  // namespace

std::optional<Manifest> read_manifest_entry(TarReader& reader, archive_entry* entry, const std::string& archive) {
  const char* name = archive_entry_pathname(entry);
  if (!name || normalize_entry_path(name).path != kManifestEntry || archive_entry_filetype(entry) != AE_IFREG)
    return std::nullopt;
  if (archive_entry_size(entry) > static_cast<la_int64_t>(kMaxManifestBytes))
    reader.fail("the manifest is larger than 1 MiB", true);
  std::string text;
  for (TarReader::Block block = reader.read_block(); block.size != 0; block = reader.read_block())
    text.append(block.data, block.size);
  Manifest manifest = parse_manifest(text, quote(archive));
  if (std::string problem = manifest_size_problem(manifest); !problem.empty())
    throw Error("invalid manifest in " + quote(archive), problem);
  return manifest;
}

std::chrono::seconds default_conda_unpack_timeout() {
  if (const char* text = std::getenv("SHMSTACK_CONDA_UNPACK_TIMEOUT")) {
    char* end = nullptr;
    long seconds = std::strtol(text, &end, 10);
    if (end != text && *end == '\0' && seconds > 0) return std::chrono::seconds{seconds};
  }
  return std::chrono::seconds{600};
}

InstallResult install_archive(ByteSource& source, const Manifest& fallback, const InstallOptions& options) {
  InstallResult result;
  TarReader reader(source, options.threads);
  result.compression = reader.compression();
  archive_entry* first = reader.next_header();
  if (!first) throw Error("cannot read archive " + quote(source.name()), "the archive has no entries");
  std::optional<Manifest> packed = read_manifest_entry(reader, first, source.name());
  bool has_manifest = packed.has_value();
  Manifest manifest = has_manifest ? std::move(*packed) : fallback;

  UserRoot root(options.root, true);
  auto present = [&]() {
    if (auto found = root.find(manifest)) {
      log::info("%s", reuse_reason(*found).c_str());
      result.stack = std::move(*found);
      result.already_present = true;
      return true;
    }
    return false;
  };
  if (present()) return result;
  StackLock lock(root, manifest.id12(), options.lock_wait);
  if (!lock.held())
    throw Error("cannot install stack " + quote(manifest.name) + " on " + host_name(),
                "another process is installing or removing it: " + lock_timeout_reason(lock));
  if (present()) return result;  // another process installed it while we waited
  // A directory under the final name without install.json is a leftover of an
  // install that died after renaming (conda-unpack): we hold the lock, clear it.
  remove_stack(root, manifest.dir_name());
  root.check_space(manifest);
  if (std::optional<Error> problem = memory_problem("stack " + quote(manifest.name), host_name(), manifest.disk_bytes,
                                                    options.memory_margin, caller_memory_left()))
    throw *problem;

  // The records are JSON: refuse now what could not be written once the
  // whole archive had been extracted.
  for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"archive", &options.archive_path},
                                     {"archive_given", &options.archive_given}})
    if (!is_utf8(*value))
      throw Error("cannot install " + quote(source.name()),
                  std::string("its path is not valid UTF-8 (install.json's '") + field + "' is JSON text)");
  if (std::string problem = manifest_text_problem(manifest); !problem.empty())
    throw Error("cannot install " + quote(source.name()), "in its manifest, " + problem);

  Staging staging(root, manifest);
  if (::mkdirat(staging.fd(), ".shmstack", 0700) != 0) throw_errno("cannot create", staging.path() + "/.shmstack");
  ExtractOptions extract_options;
  extract_options.writer_threads = options.threads;
  extract_options.archive_name = source.name();
  if (has_manifest) {
    extract_options.max_bytes = manifest.bytes;
    extract_options.max_entries = manifest.entries;
    extract_options.max_disk_bytes = manifest.disk_bytes;
    extract_options.relocation = manifest.relocation;
    extract_options.new_prefix = root.path() + "/" + manifest.dir_name();
  }
  {
    UmaskGuard umask_off;
    Progress progress("installing " + manifest.name, source.size_hint(), options.progress);
    auto started = std::chrono::steady_clock::now();
    Extractor extractor(staging.fd(), staging.path(), extract_options);
    // Small files hold their decoded chunk until written; before the reader
    // waits for a free chunk, they must be on their way to the writers.
    reader.set_wait_hook([&extractor] { extractor.flush(); });
    struct ClearHook {
      TarReader& reader;
      ~ClearHook() { reader.set_wait_hook(nullptr); }
    } clear_hook{reader};
    archive_entry* entry = has_manifest ? reader.next_header() : first;
    std::uint64_t seen = reader.bytes_in();
    for (; entry; entry = reader.next_header()) {
      extractor.extract(reader, entry);
      std::uint64_t now = reader.bytes_in();
      progress.advance(now - seen);
      seen = now;
    }
    extractor.finish();
    progress.done();
    result.times.total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    result.times.wait_decode = reader.wait_seconds();
    result.times.wait_write = extractor.wait_seconds();
    result.times.pool_wait = reader.pool_wait_seconds();
    result.times.decode = reader.decode_seconds();
    result.times.write = extractor.write_seconds();
    result.entries = extractor.entries();
    result.bytes = extractor.bytes();
    if (!has_manifest) manifest.disk_bytes = extractor.disk_bytes();  // was the archive's size
  }
  if (has_manifest && (result.entries != manifest.entries || result.bytes != manifest.bytes))
    throw Error("cannot install " + quote(source.name()),
                "the archive is incomplete: " + std::to_string(result.entries) + " of " +
                    std::to_string(manifest.entries) + " entries, " + std::to_string(result.bytes) + " of " +
                    std::to_string(manifest.bytes) + " bytes");
  if (!has_manifest) {
    // Another tool's archive: what pack would have recorded is learned from
    // the tree now (a conda-pack env is a prefix: bin/ goes on PATH).
    manifest.entries = result.entries;
    manifest.bytes = result.bytes;
    // Only the top levels matter (those of the one top-level directory too:
    // 'tar czf env.tar.gz env'), and a directory the archive made unreadable
    // (mode 000) is skipped: Python could not import from it either.
    WalkLimits limits;
    limits.max_depth = kActivationDepth;
    limits.skip_unreadable = true;
    std::vector<WalkEntry> top = walk_tree(staging.path(), {".shmstack"}, limits);  // ours, made before
    manifest.activation = detect_activation(top);
    if (std::string dir = sole_top_directory(top); !dir.empty() && manifest.activation.kind != "plain") {
      std::string dirs;
      for (const auto& [var, list] :
           {std::pair{"PATH", &manifest.activation.path}, std::pair{"PYTHONPATH", &manifest.activation.pythonpath}})
        for (const std::string& rel : *list) dirs += std::string(dirs.empty() ? "" : ", ") + var + " gets STACK/" + rel;
      log::info("%s: the environment is in its one top-level directory %s, activated as a %s stack there: %s",
                quote(source.name()).c_str(), quote(dir).c_str(), manifest.activation.kind.c_str(), dirs.c_str());
    }
  }

  InstallRecord record;
  record.archive = options.archive_path.empty() ? source.name() : options.archive_path;
  record.archive_given = options.archive_given;
  record.via = options.via;
  if (const char* job = std::getenv("SLURM_JOB_ID")) record.job_id = job;
  record.installed = utc_now_iso8601();
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  record.installed_epoch = now.tv_sec;
  record.installed_ns = std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
  record.host = host_name();
  // A conda-pack archive: conda-unpack must run where the environment finally
  // lives, so the stack is renamed into place first and only counts as
  // installed (install.json) once it has succeeded; on failure it is removed.
  struct stat st{};
  bool conda_pack = !has_manifest && ::fstatat(staging.fd(), "bin/conda-unpack", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISREG(st.st_mode);
  if (conda_pack && !options.conda_unpack)
    throw Error("cannot install " + quote(source.name()),
                "it is a conda-pack archive, whose bin/conda-unpack must run; " + options.conda_unpack_refusal);
  staging.write_file(".shmstack/manifest.json", to_json(manifest));
  if (!conda_pack) staging.write_file(".shmstack/install.json", to_json(record));
  ::fchmodat(staging.fd(), ".shmstack", 0755, 0);
  staging.commit(manifest.dir_name());

  result.stack.dir_name = manifest.dir_name();
  result.stack.path = root.path() + "/" + manifest.dir_name();
  if (conda_pack) {
    try {
      run_conda_unpack(result.stack.path, options.conda_unpack_timeout, options.conda_unpack_environment);
      std::string record_path = manifest.dir_name() + "/.shmstack/install.json";
      write_new_file(root.fd(), record_path, to_json(record), root.path() + "/" + record_path);
    } catch (...) {
      remove_stack(root, manifest.dir_name());
      throw;
    }
  }
  result.stack.manifest = manifest;
  result.stack.record = record;
  return result;
}

Manifest fallback_manifest(const std::string& archive_path, const FileSource& source) {
  Manifest fallback = synthesize_manifest(archive_path, source.size_hint(), source.mtime_ns());
  fallback.disk_bytes = source.size_hint();
  return fallback;
}

Manifest archive_manifest(const std::string& archive_path) {
  FileSource source(archive_path);
  TarReader reader(source, 0);
  archive_entry* first = reader.next_header();
  std::optional<Manifest> found = first ? read_manifest_entry(reader, first, archive_path) : std::nullopt;
  return found ? std::move(*found) : fallback_manifest(archive_path, source);
}

InstallResult install_file(const std::string& archive_path, const InstallOptions& options) {
  FileSource source(archive_path);
  Manifest fallback = fallback_manifest(archive_path, source);
  InstallOptions with_path = options;
  with_path.archive_path = resolved_path(archive_path);
  with_path.archive_given = lexically_absolute(archive_path);
  return install_archive(source, fallback, with_path);
}

}  // namespace shmstack
