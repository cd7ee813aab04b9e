#include "archive/tar_reader.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "base/chunk_pipeline.hpp"
#include "base/error.hpp"
#include "archive/lz4_frames.hpp"

namespace shmstack {
namespace {

constexpr std::size_t kReadBlock = std::size_t{1} << 20;
constexpr std::size_t kSniffBytes = 2 * kReadBlock;

struct FrameChunk : ChunkBase {
  const char* in_data = nullptr;  // the frame: where it lies (held by in_hold), or in `in`
  std::shared_ptr<const void> in_hold;  // dropped once decoded
  std::vector<char> in;
  std::size_t in_size = 0;
  std::size_t content_size = 0;
  std::uint64_t hash = 0;
  std::uint64_t offset = 0;  // of the frame in the archive, for messages
  std::vector<char> out;
  std::size_t out_size = 0;
};

// Is `prefix` the start of a shmstack archive: an LZ4 frame, then our trailer?
bool looks_like_shmstack(const std::vector<char>& prefix) {
  lz4::FrameScan frame = lz4::scan_frame(prefix.data(), prefix.size());
  if (frame.status != lz4::FrameScan::Status::frame) return false;
  lz4::Trailer trailer;
  std::size_t rest = prefix.size() - frame.length;
  return rest >= lz4::kTrailerSize &&
         lz4::parse_trailer(prefix.data() + frame.length, lz4::kTrailerSize, trailer);
}

// The most bytes one frame and its trailer may take: more is a corrupt or
// hostile archive, refused before anything is buffered for it.
const std::size_t kMaxFrameBytes = 2 * lz4::encoded_bound(lz4::kMaxFrameContent);

// Where carve() finds frames: `available()` contiguous bytes at `at()`, the
// archive's bytes from `offset()` on.
class Window {
 public:
  virtual ~Window() = default;
  const char* at() const { return at_; }
  std::size_t available() const { return available_; }
  std::uint64_t offset() const { return offset_; }
  virtual void skip(std::size_t n) {
    at_ += n;
    available_ -= n;
    offset_ += n;
  }
  // Makes at least `need` bytes available; false if the archive ends first.
  virtual bool more(std::size_t need) = 0;
  // Keeps the bytes at at() (up to available()) valid after the window moves
  // on; null when they must be copied instead.
  virtual std::shared_ptr<const void> lend() const = 0;

 protected:
  const char* at_ = nullptr;
  std::size_t available_ = 0;
  std::uint64_t offset_ = 0;
};

// A mapped file: every byte is available, and stays where it is.
class InPlaceWindow final : public Window {
 public:
  InPlaceWindow(std::string_view bytes, std::atomic<std::uint64_t>& consumed) : consumed_(consumed) {
    at_ = bytes.data();
    available_ = bytes.size();
  }
  void skip(std::size_t n) override {
    Window::skip(n);
    consumed_ = offset_;
  }
  bool more(std::size_t need) override { return available_ >= need; }
  // The mapping lives as long as the reader: a hold that owns nothing.
  std::shared_ptr<const void> lend() const override { return {std::shared_ptr<const void>(), at_}; }

 private:
  std::atomic<std::uint64_t>& consumed_;
};

// A stream read() into a buffer that holds the largest frame.
class ReadWindow final : public Window {
 public:
  ReadWindow(ByteSource& source, const std::vector<char>& prefix, std::atomic<std::uint64_t>& consumed)
      : source_(source), consumed_(consumed), buf_(std::max(kMaxFrameBytes, prefix.size()) + kReadBlock) {
    std::memcpy(buf_.data(), prefix.data(), prefix.size());
    at_ = buf_.data();
    available_ = prefix.size();
  }
  bool more(std::size_t need) override {
    if (available_ >= need) return true;
    std::memmove(buf_.data(), at_, available_);
    at_ = buf_.data();
    while (available_ < need && !eof_ && available_ < buf_.size()) {
      std::size_t n = source_.read(buf_.data() + available_, buf_.size() - available_);
      consumed_ += n;
      available_ += n;
      eof_ = n == 0;
    }
    return available_ >= need;
  }
  std::shared_ptr<const void> lend() const override { return nullptr; }

 private:
  ByteSource& source_;
  std::atomic<std::uint64_t>& consumed_;
  std::vector<char> buf_;
  bool eof_ = false;
};

// A source that lends its buffers (bcast's ring slots): frames are used where
// they lie. Only a frame that straddles two pieces (or the prefix already
// read) is assembled, from exactly the bytes the scan asks for, in a buffer of
// our own; once past it, the window points into the current piece again.
class PieceWindow final : public Window {
 public:
  PieceWindow(ByteSource& source, const std::vector<char>& prefix, std::atomic<std::uint64_t>& consumed)
      : source_(source), consumed_(consumed), assembly_(prefix) {
    at_ = assembly_.data();
    available_ = assembly_.size();
  }
  void skip(std::size_t n) override {
    Window::skip(n);
    // Past what the assembly holds from earlier pieces: back to the current one.
    if (assembling() && available_ <= from_piece_) {
      std::size_t start = taken_ - available_;
      at_ = piece_.data + start;
      available_ = piece_.size - start;
      taken_ = piece_.size;  // in piece mode the whole piece is in view
      assembly_.clear();
      from_piece_ = 0;
    }
  }
  bool more(std::size_t need) override {
    if (available_ >= need) return true;
    if (!assembling()) {  // start from the rest of the current piece
      assembly_.assign(at_, at_ + available_);
      from_piece_ = available_;
    } else {
      auto used = static_cast<std::ptrdiff_t>(assembly_.size() - available_);
      assembly_.erase(assembly_.begin(), assembly_.begin() + used);
      from_piece_ = std::min(from_piece_, available_);
    }
    while (assembly_.size() < need) {
      if (taken_ == piece_.size) {
        piece_ = source_.next_piece();  // lets go of the previous piece
        taken_ = 0;
        from_piece_ = 0;
        if (piece_.size == 0) break;
        consumed_ += piece_.size;
      }
      std::size_t n = std::min(need - assembly_.size(), piece_.size - taken_);
      assembly_.insert(assembly_.end(), piece_.data + taken_, piece_.data + taken_ + n);
      taken_ += n;
      from_piece_ += n;
    }
    at_ = assembly_.data();
    available_ = assembly_.size();
    return available_ >= need;
  }
  std::shared_ptr<const void> lend() const override { return assembling() ? nullptr : piece_.hold; }

 private:
  bool assembling() const { return !assembly_.empty() || piece_.size == 0; }

  ByteSource& source_;
  std::atomic<std::uint64_t>& consumed_;
  ByteSource::Piece piece_;  // the current piece; bytes before `taken_` are in use
  std::size_t taken_ = 0;
  std::vector<char> assembly_;
  std::size_t from_piece_ = 0;  // how many of the assembly's last bytes are the current piece's
};

}  // namespace

struct TarReader::Impl {
  ByteSource& source;
  archive* ar = nullptr;
  std::vector<char> prefix;
  std::size_t prefix_given = 0;
  bool shmstack = false;
  bool source_done = false;
  std::atomic<std::uint64_t> consumed{0};
  std::exception_ptr error;  // from inside a libarchive callback
  std::string last_entry;

  // shmstack path
  std::unique_ptr<ChunkPipeline<FrameChunk>> pipeline;
  std::thread reader;
  FrameChunk* current = nullptr;
  std::shared_ptr<const void> current_use;  // the parser's hold on `current`
  std::function<void()> wait_hook;

  // generic path
  std::vector<char> block;

  explicit Impl(ByteSource& s) : source(s) {}

  // Runs whether TarReader's constructor completed or threw after starting
  // the reader thread: stop the pipeline, unblock and join the reader.
  ~Impl() {
    current_use.reset();
    if (pipeline) {
      pipeline->fail(std::make_exception_ptr(Error("reader", "stopped")));
      source.interrupt();
      if (reader.joinable()) reader.join();
    }
    if (ar) archive_read_free(ar);
    pipeline.reset();
  }

  std::string where(std::uint64_t offset) const {
    return "archive " + quote(source.name()) + " at byte " + std::to_string(offset);
  }

  // Reader thread of the shmstack path: carve frames, check trailers, submit.
  // Frames of a mapped file, or of pieces lent by the source, are decoded
  // where they lie; a read() stream's are copied into their chunk.
  void carve() {
    InPlaceBytes* whole = source.in_place();
    std::unique_ptr<Window> window;
    if (whole) {
      window = std::make_unique<InPlaceWindow>(whole->bytes(), consumed);
    } else if (source.lends_pieces()) {
      window = std::make_unique<PieceWindow>(source, prefix, consumed);
    } else {
      window = std::make_unique<ReadWindow>(source, prefix, consumed);
    }
    try {
      carve_frames(*window, whole);
    } catch (const Error&) {
      check_intact();  // a frame read as zeros because the file shrank: say so
      throw;
    }
  }

  // Scans the next frame (or skippable frame), reading as much as it needs.
  lz4::FrameScan next_frame(Window& w) {
    for (;;) {
      lz4::FrameScan scan = lz4::scan_frame(w.at(), w.available());
      if (scan.status != lz4::FrameScan::Status::need_more) return scan;
      if (scan.need > kMaxFrameBytes)
        throw Error("cannot read " + where(w.offset()),
                    "corrupt archive: an LZ4 frame larger than any shmstack writes");
      if (!w.more(scan.need)) return scan;  // the archive ends first
    }
  }

  void carve_frames(Window& w, InPlaceBytes* whole) {
    std::deque<std::uint64_t> in_flight;  // start offsets of the frames the workers may still read
    const std::size_t depth = pipeline->depth();
    for (std::uint64_t seq = 0;;) {
      check_cancelled();
      lz4::FrameScan scan = next_frame(w);
      using S = lz4::FrameScan::Status;
      if (scan.status == S::need_more) {
        if (w.available() == 0) break;
        throw Error("cannot read " + where(w.offset()), "truncated archive (ends inside an LZ4 frame)");
      }
      if (scan.status == S::not_lz4 || scan.status == S::corrupt)
        throw Error("cannot read " + where(w.offset()), "corrupt archive: " + scan.problem);
      if (scan.status == S::skippable) {
        w.skip(scan.length);
        continue;
      }
      if (!scan.has_content_size || scan.content_size > lz4::kMaxFrameContent)
        throw Error("cannot read " + where(w.offset()), "corrupt archive: LZ4 frame without a valid content size");
      lz4::Trailer trailer;
      if (!w.more(scan.length + lz4::kTrailerSize) ||
          !lz4::parse_trailer(w.at() + scan.length, lz4::kTrailerSize, trailer))
        throw Error("cannot read " + where(w.offset() + scan.length),
                    "corrupt or truncated archive: frame " + std::to_string(seq) + " has no integrity trailer");
      if (trailer.seq != seq || trailer.frame_size != scan.length)
        throw Error("cannot read " + where(w.offset() + scan.length),
                    "corrupt archive: frame " + std::to_string(seq) + " is out of sequence");
      FrameChunk& chunk = pipeline->acquire();
      chunk.in_hold = w.lend();
      if (chunk.in_hold) {
        chunk.in_data = w.at();
      } else {
        chunk.in.resize(std::max(chunk.in.size(), scan.length));
        std::memcpy(chunk.in.data(), w.at(), scan.length);
        chunk.in_data = chunk.in.data();
      }
      if (whole) {
        // At most `depth` frames are in the pipeline: all before those are done.
        in_flight.push_back(w.offset());
        if (in_flight.size() > depth) {
          whole->done_before(in_flight.front());
          in_flight.pop_front();
        }
      }
      chunk.in_size = scan.length;
      chunk.content_size = static_cast<std::size_t>(scan.content_size);
      chunk.hash = trailer.hash;
      chunk.offset = w.offset();
      pipeline->submit(chunk);
      w.skip(scan.length + lz4::kTrailerSize);
      ++seq;
    }
    pipeline->close();
  }

  // Throws if bytes of a mapped archive vanished (the file was truncated).
  void check_intact() {
    InPlaceBytes* whole = source.in_place();
    if (whole && whole->vanished())
      throw Error("cannot read archive " + quote(source.name()), "the file became shorter while it was being read");
  }

  void start_shmstack(unsigned threads) {
    // Each worker thread keeps its own decompression context.
    auto transform = [this](FrameChunk& chunk) {
      thread_local lz4::Decompressor decompressor;
      try {
        if (lz4::hash_frame(chunk.in_data, chunk.in_size) != chunk.hash)
          throw Error("cannot read " + where(chunk.offset),
                      "corrupt archive: checksum mismatch in frame " + std::to_string(chunk.seq));
        chunk.out_size = decompressor.decode(chunk.in_data, chunk.in_size, chunk.content_size, chunk.out,
                                             "cannot read " + where(chunk.offset));
      } catch (const Error&) {
        check_intact();
        throw;
      }
      check_intact();  // zeros that happened to decode are no better
      chunk.in_hold.reset();  // a lent buffer goes back as soon as possible
    };
    std::size_t depth = 2 * std::max(1u, threads) + 2;
    pipeline = std::make_unique<ChunkPipeline<FrameChunk>>(threads, depth, transform);
    reader = std::thread([this] { pipeline->guard([this] { carve(); }); });
  }

  // libarchive's read callback. Exceptions must not cross the C library.
  la_ssize_t read(const void** out) {
    try {
      if (shmstack) {
        current_use.reset();  // the chunk returns to the pool once no job holds it
        current = nullptr;
        if (wait_hook) wait_hook();
        FrameChunk* chunk = pipeline->next();
        if (!chunk) return 0;
        ChunkPipeline<FrameChunk>* p = pipeline.get();
        current = chunk;
        current_use = std::shared_ptr<const void>(chunk, [p, chunk](const void*) { p->release(*chunk); });
        *out = current->out.data();
        return static_cast<la_ssize_t>(current->out_size);
      }
      if (prefix_given < prefix.size()) {
        *out = prefix.data();
        prefix_given = prefix.size();
        return static_cast<la_ssize_t>(prefix.size());
      }
      if (source_done) return 0;
      block.resize(kReadBlock);
      std::size_t n = source.read(block.data(), block.size());
      if (n == 0) source_done = true;
      consumed += n;
      *out = block.data();
      return static_cast<la_ssize_t>(n);
    } catch (...) {
      if (!error) error = std::current_exception();
      archive_set_error(ar, EIO, "read failed");
      return -1;
    }
  }

  static la_ssize_t read_callback(archive*, void* self, const void** out) {
    return static_cast<Impl*>(self)->read(out);
  }
};

TarReader::TarReader(ByteSource& source, unsigned threads) : impl_(std::make_unique<Impl>(source)) {
  Impl& s = *impl_;
  s.prefix.resize(kSniffBytes);
  std::size_t got = 0;
  while (got < s.prefix.size()) {
    std::size_t n = source.read(s.prefix.data() + got, s.prefix.size() - got);
    if (n == 0) {
      s.source_done = true;
      break;
    }
    got += n;
  }
  s.prefix.resize(got);
  s.consumed = got;
  if (got == 0) throw Error("cannot read archive " + quote(source.name()), "file is empty");
  s.shmstack = looks_like_shmstack(s.prefix);

  s.ar = archive_read_new();
  if (!s.ar) throw Error("cannot read archive " + quote(source.name()), "out of memory");
  archive_read_support_format_tar(s.ar);
  archive_read_support_format_gnutar(s.ar);
  if (s.shmstack) {
    s.start_shmstack(threads);
  } else {
    // Only filters libarchive does in-process (Debian links zlib, bzip2,
    // liblzma, libzstd, liblz4): never one that would run an external
    // program, which compute nodes may lack and MPI forbids (no fork).
    archive_read_support_filter_gzip(s.ar);
    archive_read_support_filter_bzip2(s.ar);
    archive_read_support_filter_xz(s.ar);
    archive_read_support_filter_lzma(s.ar);
    archive_read_support_filter_zstd(s.ar);
    archive_read_support_filter_lz4(s.ar);
  }
  if (archive_read_open2(s.ar, impl_.get(), nullptr, &Impl::read_callback, nullptr, nullptr) !=
      ARCHIVE_OK) {
    if (s.error) std::rethrow_exception(s.error);
    std::string why = archive_error_string(s.ar) ? archive_error_string(s.ar) : "unknown format";
    if (why.find("Unrecognized archive format") != std::string::npos)
      why = "not a tar archive (or an unsupported compression)";
    throw Error("cannot read archive " + quote(source.name()), why);
  }
}

TarReader::~TarReader() = default;

void TarReader::fail(const std::string& why, bool in_entry) const {
  std::string what = "cannot read archive " + quote(impl_->source.name());
  if (!impl_->last_entry.empty())
    what += (in_entry ? " in entry " : " after entry ") + quote_entry(impl_->last_entry);
  throw Error(what, why);
}

archive_entry* TarReader::next_header() {
  Impl& s = *impl_;
  archive_entry* entry = nullptr;
  int r = archive_read_next_header(s.ar, &entry);
  if (r == ARCHIVE_EOF) {
    if (s.error) std::rethrow_exception(s.error);
    return nullptr;
  }
  if (r < ARCHIVE_WARN) {
    if (s.error) std::rethrow_exception(s.error);
    fail(archive_error_string(s.ar) ? archive_error_string(s.ar) : "damaged tar header");
  }
  s.last_entry.clear();
  const char* name = archive_entry_pathname(entry);
  s.last_entry = name ? name : "";
  return entry;
}

TarReader::Block TarReader::read_block() {
  Impl& s = *impl_;
  const void* data = nullptr;
  std::size_t size = 0;
  la_int64_t offset = 0;
  int r = archive_read_data_block(s.ar, &data, &size, &offset);
  if (r == ARCHIVE_EOF) return {nullptr, 0, offset, nullptr};
  if (r < ARCHIVE_WARN) {
    if (s.error) std::rethrow_exception(s.error);
    fail(archive_error_string(s.ar) ? archive_error_string(s.ar) : "damaged entry data", true);
  }
  Block block{static_cast<const char*>(data), size, offset, nullptr};
  if (s.current && block.data >= s.current->out.data() &&
      block.data + size <= s.current->out.data() + s.current->out_size)
    block.keep = s.current_use;
  return block;
}

void TarReader::set_wait_hook(std::function<void()> hook) { impl_->wait_hook = std::move(hook); }

std::string TarReader::compression() const {
  if (impl_->shmstack) return "shmstack-lz4";
  const char* name = archive_filter_name(impl_->ar, 0);
  return name ? name : "none";
}

std::uint64_t TarReader::bytes_in() const { return impl_->consumed.load(); }

}  // namespace shmstack
