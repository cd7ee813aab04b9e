// The shmstack archive's compression layer: independent LZ4 frames, each
// followed by an integrity trailer.
//
//   [LZ4 frame 0][trailer 0][LZ4 frame 1][trailer 1] ...
//
// Each frame holds at most kFrameContent bytes of the tar stream, compressed
// independently (so frames compress and decompress in parallel), with the
// content size in its header and no LZ4F checksums. The trailer is an LZ4
// *skippable* frame (magic 0x184D2A5E, 24-byte payload) that `lz4 -d` and
// libarchive step over:
//
//   u32 tag "SHS1" | u32 compressed size of the frame | u64 frame sequence number
//   | u64 XXH3-64 of the frame's compressed bytes
//
// Hashing the compressed bytes with XXH3 is the cheapest sound check we
// measured (see scripts/bench/pack-unpack): fewer bytes than the content, at
// XXH3 speed. The sequence number catches dropped or reordered frames; the tar
// layer and the manifest's counts catch a stream cut at a frame boundary.
//
// Nothing here does I/O. All integers are little-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shmstack::lz4 {

inline constexpr std::size_t kFrameContent = std::size_t{1} << 20;  // tar bytes per frame
inline constexpr std::size_t kMaxFrameContent = std::size_t{4} << 20;  // accepted when reading
inline constexpr std::uint32_t kFrameMagic = 0x184D2204;
inline constexpr std::uint32_t kTrailerMagic = 0x184D2A5E;
inline constexpr std::uint32_t kTrailerTag = 0x31534853;  // "SHS1"
inline constexpr std::size_t kTrailerSize = 8 + 24;

// Worst-case size of one encoded frame plus trailer for `content` bytes.
std::size_t encoded_bound(std::size_t content);

// A reusable compression context (one per worker thread).
class Compressor {
 public:
  explicit Compressor(int level);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  // Writes frame + trailer for src[0, size) into `out` (resized to fit) and
  // returns the encoded size. `size` must be at least 1: LZ4F omits the
  // content size of an empty frame, and readers require it.
  std::size_t encode(const char* src, std::size_t size, std::uint64_t seq, std::vector<char>& out);
  int level() const { return level_; }

 private:
  void* cctx_;
  int level_;
};

// What the scanner found at the front of a byte range.
struct FrameScan {
  enum class Status { need_more, frame, skippable, not_lz4, corrupt };
  Status status = Status::need_more;
  std::size_t length = 0;          // bytes of the frame (or skippable frame)
  std::size_t need = 0;            // need_more: how many bytes the scan must see to go on
  std::uint64_t content_size = 0;  // from the frame header, if present
  bool has_content_size = false;
  std::string problem;             // for corrupt / not_lz4
};

// Finds the extent of the LZ4 frame or skippable frame at data[0, size),
// walking block headers without decompressing.
FrameScan scan_frame(const char* data, std::size_t size);

struct Trailer {
  std::uint32_t frame_size = 0;
  std::uint64_t seq = 0;
  std::uint64_t hash = 0;
};

// Parses a skippable frame of exactly kTrailerSize bytes as a shmstack trailer.
bool parse_trailer(const char* data, std::size_t size, Trailer& out);

std::uint64_t hash_frame(const char* data, std::size_t size);

// A reusable decompression context (one per worker thread).
class Decompressor {
 public:
  Decompressor();
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
  // Decompresses one complete frame into `out` (resized); returns the content
  // size. Throws Error naming `where` when the frame is damaged.
  std::size_t decode(const char* frame, std::size_t size, std::size_t content_size,
                     std::vector<char>& out, const std::string& where);

 private:
  void* dctx_;
};

}  // namespace shmstack::lz4
