#include "install/extractor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/path_check.hpp"
#include "base/progress.hpp"
#include "archive/relocation.hpp"

namespace shmstack {
namespace {

constexpr std::size_t kSmallFile = std::size_t{1} << 20;  // written whole by one writer up to this size
constexpr std::size_t kRangeBytes = std::size_t{1} << 20; // a large file's copied blocks, gathered per job

// Cap on file data queued for the writers: enough for every writer to have a
// range of a large file (a decoded chunk, 1 MiB) and the next one queued.
std::size_t bytes_in_flight(unsigned writers) {
  return std::max(std::size_t{16} << 20, std::size_t{writers} * (std::size_t{2} << 20));
}

timespec entry_mtime(archive_entry* entry) {
  if (!archive_entry_mtime_is_set(entry)) return {0, UTIME_OMIT};
  return {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
}

bool is_reserved(const std::string& path) {
  return path == ".shmstack" || path.rfind(".shmstack/", 0) == 0;
}

}  // namespace

Extractor::Extractor(int staging_fd, std::string staging_path, ExtractOptions options)
    : fd_(staging_fd), staging_path_(std::move(staging_path)), options_(std::move(options)) {
  if (options_.max_entries < (std::uint64_t{1} << 22)) known_.reserve(options_.max_entries + 2);
  known_.emplace("", Kind::directory);
  known_.emplace(".shmstack", Kind::directory);  // made by the installer
  relocate_.insert(options_.relocation.files.begin(), options_.relocation.files.end());
  binaries_.insert(options_.relocation.binaries.begin(), options_.relocation.binaries.end());
  writers_ = std::make_unique<FileWriterPool>(fd_, staging_path_, options_.writer_threads,
                                              bytes_in_flight(options_.writer_threads));
}

Extractor::~Extractor() = default;

void Extractor::refuse(const std::string& entry, const std::string& why) const {
  throw Error("refusing entry " + quote_entry(entry) + " of archive " + quote(options_.archive_name), why);
}

void Extractor::make_directory(const std::string& path, mode_t mode, timespec mtime,
                               bool explicit_entry) {
  auto found = dir_index_.find(path);
  if (found != dir_index_.end()) {  // made earlier (implicitly, or a repeated entry)
    if (explicit_entry) dirs_[found->second] = {path, mode, mtime};
    return;
  }
  if (::mkdirat(fd_, path.c_str(), 0700) != 0) {
    int saved = errno;
    throw_system_error("cannot create directory " + quote(path) + " in " + quote(staging_path_), saved);
  }
  known_[path] = Kind::directory;
  dir_index_.emplace(path, dirs_.size());
  dirs_.push_back({path, mode, explicit_entry ? mtime : timespec{0, UTIME_OMIT}});
}

void Extractor::ensure_parent(const std::string& entry, const std::string& path) {
  std::string_view parent = parent_of(path);
  if (parent.empty()) return;
  auto it = known_.find(std::string(parent));
  if (it != known_.end()) {
    if (it->second != Kind::directory)
      refuse(entry, "its parent " + quote_entry(parent) + " is a " +
                        (it->second == Kind::symlink ? "symlink" : "file") +
                        " (no writing through links)");
    return;
  }
  std::string parent_path(parent);
  ensure_parent(entry, parent_path);
  make_directory(parent_path, 0755, {0, UTIME_OMIT}, false);
}

void Extractor::make_room(const std::string& entry, const std::string& path, bool directory) {
  auto it = known_.find(path);
  if (it == known_.end()) return;
  bool was_dir = it->second == Kind::directory;
  if (directory && was_dir) return;
  if (directory != was_dir)
    refuse(entry, directory ? "a directory would replace an earlier file or symlink"
                            : "a file or symlink would replace an earlier directory");
  // A later entry of the same name replaces the earlier one, as tar does.
  writers_->drain();
  if (::unlinkat(fd_, path.c_str(), 0) != 0) {
    int saved = errno;
    throw_system_error("cannot replace " + quote(path) + " in " + quote(staging_path_), saved);
  }
  known_.erase(it);
}

void Extractor::read_entry_data(TarReader& reader, const std::string& path, std::uint64_t size, char* buffer,
                                TarReader::Block block, std::size_t filled) {
  // Bytes before `filled` are set; a sparse entry's holes read as zeros.
  for (; block.size != 0; block = reader.read_block()) {
    auto at = static_cast<std::uint64_t>(block.offset);
    if (block.offset < 0 || at < filled || at + block.size > size) refuse(path, "entry data runs past its declared size");
    std::memset(buffer + filled, 0, static_cast<std::size_t>(at) - filled);
    std::memcpy(buffer + at, block.data, block.size);
    filled = static_cast<std::size_t>(at) + block.size;
  }
  std::memset(buffer + filled, 0, static_cast<std::size_t>(size) - filled);
}

// The whole file in memory (ELF files are at most some tens of MiB), its
// RPATH/RUNPATH rewritten where relocation.hpp says, then written as one job.
void Extractor::write_relocated_binary(TarReader& reader, FileJob job, std::uint64_t size) {
  if (size > kMaxRelocatedBinary) refuse(job.path, "listed for relocation but larger than " + human_bytes(kMaxRelocatedBinary));
  char* buffer = job.allocate(static_cast<std::size_t>(size));
  read_entry_data(reader, job.path, size, buffer, reader.read_block());
  std::string_view bytes(buffer, static_cast<std::size_t>(size));
  BinaryRelocation moved = relocate_search_paths(read_elf_search_paths(bytes), job.path, options_.relocation.prefixes);
  if (!moved.problem.empty()) refuse(job.path, "cannot relocate its search path: " + moved.problem);
  for (const BinaryEdit& edit : moved.edits) std::memcpy(buffer + edit.offset, edit.bytes.data(), edit.bytes.size());
  writers_->submit(std::move(job));
}

void Extractor::write_file(TarReader& reader, archive_entry* entry, const std::string& path) {
  std::uint64_t size = archive_entry_size_is_set(entry) ? static_cast<std::uint64_t>(archive_entry_size(entry)) : 0;
  bytes_ += size;
  if (bytes_ > options_.max_bytes)
    refuse(path, "the archive holds more file data than its manifest declares (" +
                     std::to_string(options_.max_bytes) + " bytes)");
  disk_bytes_ += (size + kPageSize - 1) / kPageSize * kPageSize;
  if (disk_bytes_ > options_.max_disk_bytes)
    refuse(path, "the archive's files take more memory than its manifest declares (" +
                     std::to_string(options_.max_disk_bytes) + " bytes in whole pages)");
  mode_t mode = archive_entry_perm(entry) & 0777;
  timespec mtime = entry_mtime(entry);

  FileJob job;
  job.path = path;
  job.mode = mode;
  job.mtime = mtime;
  if (!relocate_.empty() && relocate_.count(path) && size <= kMaxRelocatedFile) {
    std::string text(static_cast<std::size_t>(size), '\0');
    read_entry_data(reader, path, size, text.data(), reader.read_block());
    std::string moved = relocate_text(text, options_.relocation.prefixes, options_.new_prefix);
    std::memcpy(job.allocate(moved.size()), moved.data(), moved.size());
    writers_->submit(std::move(job));
    return;
  }
  if (!binaries_.empty() && binaries_.count(path)) {
    write_relocated_binary(reader, std::move(job), size);
    return;
  }
  if (size <= kSmallFile && writers_) {
    write_small_file(reader, std::move(job), size);
    return;
  }
  write_large_file(reader, path, mode, mtime, size);
}

void Extractor::write_large_file(TarReader& reader, const std::string& path, mode_t mode, timespec mtime,
                                 std::uint64_t size) {
  auto file = std::make_shared<OpenFile>(create_file(fd_, path, mode, staging_path_), path, mtime);
  if (::ftruncate(file->fd(), static_cast<off_t>(size)) != 0) {  // sized first; holes of a sparse entry stay zero
    int saved = errno;
    throw_system_error("cannot write " + quote(path) + " in " + quote(staging_path_), saved);
  }
  auto hand_over = [&](const char* data, std::size_t n, std::uint64_t offset, std::shared_ptr<const void> hold) {
    FileJob range;
    range.path = path;
    range.file = file;
    range.offset = offset;
    range.add(data, n, hold);
    file->hold();
    writers_->submit(std::move(range));
  };
  // Blocks valid only until the next read (another tool's archive) are
  // gathered into buffers of their own, up to kRangeBytes each.
  struct Gathered {
    std::shared_ptr<char[]> buffer;
    std::size_t size = 0;
    std::uint64_t offset = 0;
  } gathered;
  auto hand_over_gathered = [&] {
    if (gathered.size != 0) hand_over(gathered.buffer.get(), gathered.size, gathered.offset, gathered.buffer);
    gathered = {};
  };
  for (;;) {
    check_cancelled();
    TarReader::Block block = reader.read_block();
    if (block.size == 0) break;
    auto at = static_cast<std::uint64_t>(block.offset);
    if (block.offset < 0 || at > size || block.size > size - at) refuse(path, "entry data runs past its declared size");
    if (block.keep) {  // where it lies in its decoded chunk: no copy
      hand_over_gathered();
      hand_over(block.data, block.size, at, block.keep);
      continue;
    }
    for (std::size_t done = 0; done < block.size;) {
      if (gathered.size != 0 && gathered.offset + gathered.size != at + done) hand_over_gathered();
      if (!gathered.buffer) {
        gathered.buffer.reset(new char[kRangeBytes]);
        gathered.offset = at + done;
      }
      std::size_t n = std::min(block.size - done, kRangeBytes - gathered.size);
      std::memcpy(gathered.buffer.get() + gathered.size, block.data + done, n);
      gathered.size += n;
      done += n;
      if (gathered.size == kRangeBytes) hand_over_gathered();
    }
  }
  hand_over_gathered();
  file->release(staging_path_);  // finishes the file if every range is written already
}

void Extractor::write_small_file(TarReader& reader, FileJob job, std::uint64_t size) {
  auto n = static_cast<std::size_t>(size);
  // The file's bytes where they lie in the decoded chunks (one, or two when
  // it straddles a boundary): the job holds the chunks, nothing is copied.
  std::size_t at = 0;
  TarReader::Block block = reader.read_block();
  for (; block.size != 0; block = reader.read_block()) {
    bool in_place = block.keep && block.offset >= 0 && static_cast<std::size_t>(block.offset) == at &&
                    block.size <= n - at;
    if (!in_place || !job.add(block.data, block.size, block.keep)) break;
    at += block.size;
  }
  if (block.size != 0 || at != n) {
    // A hole (sparse entry), a block only valid until the next read, or a
    // third piece: copy what is there and the rest into the job's own buffer.
    auto pieces = job.pieces;  // holds their chunks until copied
    char* buffer = job.allocate(n);
    std::size_t filled = 0;
    for (const FileJob::Piece& piece : pieces) {
      if (piece.size == 0) continue;
      std::memcpy(buffer + filled, piece.data, piece.size);
      filled += piece.size;
    }
    read_entry_data(reader, job.path, size, buffer, std::move(block), filled);
  }
  writers_->submit(std::move(job));
}

void Extractor::extract(TarReader& reader, archive_entry* entry) {
  const char* raw_name = archive_entry_pathname(entry);
  std::string raw = raw_name ? raw_name : "";
  EntryPath name = normalize_entry_path(raw);
  if (!name.problem.empty()) refuse(raw, name.problem);
  const std::string& path = name.path;

  if (++entries_ > options_.max_entries)
    refuse(raw, "the archive holds more entries than its manifest declares (" +
                    std::to_string(options_.max_entries) + ")");
  mode_t type = archive_entry_filetype(entry);
  const char* hardlink = archive_entry_hardlink(entry);

  if (path.empty()) {  // "./": the stack root itself; its metadata is ours
    if (type != AE_IFDIR) refuse(raw, "the archive's root is not a directory");
    return;
  }
  if (is_reserved(path)) refuse(raw, "'.shmstack' is reserved for shmstack's own records");
  ensure_parent(raw, path);

  if (hardlink) {
    EntryPath target = normalize_entry_path(hardlink);
    if (!target.problem.empty()) refuse(raw, "hard link target " + quote_entry(hardlink) + ": " + target.problem);
    if (target.path == path) refuse(raw, "hard link to itself");
    auto it = known_.find(target.path);
    if (it == known_.end() || it->second == Kind::directory)
      refuse(raw, "hard link to " + quote_entry(hardlink) + ", which is not an earlier file of this archive");
    Kind kind = it->second;  // make_room may change the map
    make_room(raw, path, false);
    writers_->drain();  // the target's content must be complete
    if (::linkat(fd_, target.path.c_str(), fd_, path.c_str(), 0) != 0) {
      int saved = errno;
      throw_system_error("cannot create hard link " + quote(path) + " in " + quote(staging_path_), saved);
    }
    known_[path] = kind;
    return;
  }

  switch (type) {
    case AE_IFDIR: {
      make_room(raw, path, true);
      make_directory(path, archive_entry_perm(entry) & 01777, entry_mtime(entry), true);
      return;
    }
    case AE_IFREG: {
      make_room(raw, path, false);
      known_[path] = Kind::file;
      write_file(reader, entry, path);
      return;
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      if (!target || !*target) refuse(raw, "symlink without a target");
      make_room(raw, path, false);
      std::string moved = relocate_link(target, options_.relocation.prefixes, options_.new_prefix);
      if (::symlinkat(moved.c_str(), fd_, path.c_str()) != 0) {
        int saved = errno;
        throw_system_error("cannot create symlink " + quote(path) + " in " + quote(staging_path_), saved);
      }
      known_[path] = Kind::symlink;
      timespec mtime = entry_mtime(entry);
      timespec times[2] = {{0, UTIME_OMIT}, mtime};
      if (mtime.tv_nsec != UTIME_OMIT) ::utimensat(fd_, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
      return;
    }
    case AE_IFCHR:
    case AE_IFBLK:
      refuse(raw, "device files are not allowed in a stack");
    case AE_IFIFO:
      refuse(raw, "FIFOs are not allowed in a stack");
    case AE_IFSOCK:
      refuse(raw, "sockets are not allowed in a stack");
    default:
      refuse(raw, "unsupported entry type");
  }
}

void Extractor::finish() {
  writers_->drain();
  // Children were created after their parents: walking backwards sets each
  // directory's mtime after everything inside it has been written.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    if (::fchmodat(fd_, it->path.c_str(), it->mode, 0) != 0) {
      int saved = errno;
      throw_system_error("cannot set the mode of " + quote(it->path) + " in " + quote(staging_path_), saved);
    }
    if (it->mtime.tv_nsec == UTIME_OMIT) continue;
    timespec times[2] = {{0, UTIME_OMIT}, it->mtime};
    if (::utimensat(fd_, it->path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      int saved = errno;
      throw_system_error("cannot set the mtime of " + quote(it->path) + " in " + quote(staging_path_), saved);
    }
  }
}

}  // namespace shmstack
