#include "archive/tar_reader.hpp"

#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "archive/frame_decoder.hpp"
#include "base/busy_time.hpp"
#include "base/error.hpp"

namespace shmstack {
namespace {

constexpr std::size_t kReadBlock = std::size_t{1} << 20;
constexpr std::size_t kSniffBytes = 2 * kReadBlock;

}  // namespace

struct TarReader::Impl {
  ByteSource& source;
  archive* ar = nullptr;
  std::vector<char> prefix;  // the sniffed first bytes
  std::size_t prefix_given = 0;
  bool shmstack = false;
  bool source_done = false;
  std::atomic<std::uint64_t> consumed{0};
  std::exception_ptr error;  // from inside a libarchive callback
  std::string last_entry;

  // shmstack path: the decoder, and the chunk libarchive is parsing
  std::unique_ptr<FrameDecoder> decoder;
  FrameDecoder::Decoded current;
  std::function<void()> wait_hook;
  BusyTime waited;

  // generic path
  std::vector<char> block;

  explicit Impl(ByteSource& s) : source(s) {}

  ~Impl() {
    current = {};
    decoder.reset();
    if (ar) archive_read_free(ar);
  }

  // libarchive's read callback. Exceptions must not cross the C library.
  la_ssize_t read(const void** out) {
    try {
      if (shmstack) {
        current = {};  // the chunk returns to the pool once no file job holds it
        if (wait_hook) wait_hook();
        BusyTime::Span span(waited);
        current = decoder->next();
        *out = current.data;
        return static_cast<la_ssize_t>(current.size);
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
  s.shmstack = is_shmstack_archive(s.prefix);

  s.ar = archive_read_new();
  if (!s.ar) throw Error("cannot read archive " + quote(source.name()), "out of memory");
  archive_read_support_format_tar(s.ar);
  archive_read_support_format_gnutar(s.ar);
  if (s.shmstack) {
    s.decoder = std::make_unique<FrameDecoder>(source, s.prefix, s.consumed, threads);
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
  if (archive_read_open2(s.ar, impl_.get(), nullptr, &Impl::read_callback, nullptr, nullptr) != ARCHIVE_OK) {
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
  if (!impl_->last_entry.empty()) what += (in_entry ? " in entry " : " after entry ") + quote_entry(impl_->last_entry);
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
  if (s.current.hold && block.data >= s.current.data && block.data + size <= s.current.data + s.current.size)
    block.keep = s.current.hold;
  return block;
}

void TarReader::set_wait_hook(std::function<void()> hook) { impl_->wait_hook = std::move(hook); }

std::string TarReader::compression() const {
  if (impl_->shmstack) return "shmstack-lz4";
  const char* name = archive_filter_name(impl_->ar, 0);
  return name ? name : "none";
}

std::uint64_t TarReader::bytes_in() const { return impl_->consumed.load(); }

double TarReader::decode_seconds() const { return impl_->decoder ? impl_->decoder->decode_seconds() : 0; }

double TarReader::wait_seconds() const { return impl_->waited.seconds(); }

double TarReader::pool_wait_seconds() const { return impl_->decoder ? impl_->decoder->pool_wait_seconds() : 0; }

}  // namespace shmstack
