#include "archive/lz4_frames.hpp"

#include <lz4frame.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>

#include "base/error.hpp"

namespace shmstack::lz4 {
namespace {

std::uint32_t load32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // the build targets little-endian hosts (checked in CMake)
}

std::uint64_t load64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

void store32(char* p, std::uint32_t v) { std::memcpy(p, &v, 4); }
void store64(char* p, std::uint64_t v) { std::memcpy(p, &v, 8); }

LZ4F_preferences_t preferences(int level, std::size_t content) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max1MB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = content;
  prefs.compressionLevel = level;
  prefs.autoFlush = 1;
  return prefs;
}

}  // namespace

std::size_t encoded_bound(std::size_t content) {
  LZ4F_preferences_t prefs = preferences(1, content);
  return LZ4F_compressFrameBound(content, &prefs) + kTrailerSize;
}

Compressor::Compressor(int level) : cctx_(nullptr), level_(level) {
  LZ4F_cctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createCompressionContext(&ctx, LZ4F_VERSION)))
    throw Error("lz4 compression", "cannot create a context");
  cctx_ = ctx;
}

Compressor::~Compressor() { LZ4F_freeCompressionContext(static_cast<LZ4F_cctx*>(cctx_)); }

std::size_t Compressor::encode(const char* src, std::size_t size, std::uint64_t seq,
                               std::vector<char>& out) {
  if (size == 0) throw Error("lz4 compression", "an empty chunk cannot be a frame");
  LZ4F_preferences_t prefs = preferences(level_, size);
  std::size_t bound = LZ4F_compressFrameBound(size, &prefs) + kTrailerSize;
  if (out.size() < bound) out.resize(bound);
  auto* ctx = static_cast<LZ4F_cctx*>(cctx_);
  std::size_t cap = bound - kTrailerSize;
  std::size_t n = LZ4F_compressBegin(ctx, out.data(), cap, &prefs);
  if (LZ4F_isError(n)) throw Error("lz4 compression", LZ4F_getErrorName(n));
  std::size_t step = LZ4F_compressUpdate(ctx, out.data() + n, cap - n, src, size, nullptr);
  if (LZ4F_isError(step)) throw Error("lz4 compression", LZ4F_getErrorName(step));
  n += step;
  step = LZ4F_compressEnd(ctx, out.data() + n, cap - n, nullptr);
  if (LZ4F_isError(step)) throw Error("lz4 compression", LZ4F_getErrorName(step));
  n += step;
  char* t = out.data() + n;
  store32(t, kTrailerMagic);
  store32(t + 4, 24);
  store32(t + 8, kTrailerTag);
  store32(t + 12, static_cast<std::uint32_t>(n));
  store64(t + 16, seq);
  store64(t + 24, hash_frame(out.data(), n));
  return n + kTrailerSize;
}

FrameScan scan_frame(const char* data, std::size_t size) {
  FrameScan scan;
  auto need = [&scan](std::size_t bytes) {  // need_more: nothing can be said before `bytes`
    scan.need = bytes;
    return scan;
  };
  if (size < 8) return need(8);  // the shortest thing is a skippable frame's header
  std::uint32_t magic = load32(data);
  if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) {
    std::uint64_t length = 8 + std::uint64_t{load32(data + 4)};
    if (size < length) return need(static_cast<std::size_t>(length));
    scan.status = FrameScan::Status::skippable;
    scan.length = static_cast<std::size_t>(length);
    return scan;
  }
  if (magic != kFrameMagic) {
    scan.status = FrameScan::Status::not_lz4;
    scan.problem = "not an LZ4 frame";
    return scan;
  }
  auto flg = static_cast<unsigned char>(data[4]);
  auto bd = static_cast<unsigned char>(data[5]);
  if ((flg >> 6) != 1 || (flg & 0x02) || (bd & 0x8F)) {
    scan.status = FrameScan::Status::corrupt;
    scan.problem = "bad LZ4 frame header";
    return scan;
  }
  bool block_checksum = flg & 0x10;
  bool has_size = flg & 0x08;
  bool content_checksum = flg & 0x04;
  bool has_dict = flg & 0x01;
  std::size_t block_max = std::size_t{1} << (8 + 2 * ((bd >> 4) & 7));
  if (((bd >> 4) & 7) < 4) {
    scan.status = FrameScan::Status::corrupt;
    scan.problem = "bad LZ4 block size";
    return scan;
  }
  std::size_t pos = 6 + (has_size ? 8 : 0) + (has_dict ? 4 : 0) + 1;
  if (size < pos + 4) return need(pos + 4);  // the header and the first block's size
  if (has_size) {
    scan.has_content_size = true;
    scan.content_size = load64(data + 6);
  }
  for (;;) {
    if (size < pos + 4) return need(pos + 4);
    std::uint32_t word = load32(data + pos);
    pos += 4;
    if (word == 0) break;  // end mark
    std::size_t block = word & 0x7FFFFFFFu;
    if (block > block_max) {
      scan.status = FrameScan::Status::corrupt;
      scan.problem = "LZ4 block larger than the frame allows";
      return scan;
    }
    pos += block + (block_checksum ? 4 : 0);
    if (size < pos + 4) return need(pos + 4);  // the block, and the next block's size or the end mark
  }
  pos += content_checksum ? 4 : 0;
  if (size < pos) return need(pos);
  scan.status = FrameScan::Status::frame;
  scan.length = pos;
  return scan;
}

bool parse_trailer(const char* data, std::size_t size, Trailer& out) {
  if (size != kTrailerSize || load32(data) != kTrailerMagic || load32(data + 4) != 24 ||
      load32(data + 8) != kTrailerTag)
    return false;
  out.frame_size = load32(data + 12);
  out.seq = load64(data + 16);
  out.hash = load64(data + 24);
  return true;
}

std::uint64_t hash_frame(const char* data, std::size_t size) { return XXH3_64bits(data, size); }

Decompressor::Decompressor() : dctx_(nullptr) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
    throw Error("lz4 decompression", "cannot create a context");
  dctx_ = ctx;
}

Decompressor::~Decompressor() { LZ4F_freeDecompressionContext(static_cast<LZ4F_dctx*>(dctx_)); }

std::size_t Decompressor::decode(const char* frame, std::size_t size, std::size_t content_size,
                                 std::vector<char>& out, const std::string& where) {
  auto* ctx = static_cast<LZ4F_dctx*>(dctx_);
  if (out.size() < content_size) out.resize(content_size);
  std::size_t in_used = size;
  std::size_t out_used = content_size;
  LZ4F_decompressOptions_t options{};
  options.stableDst = 1;
  std::size_t hint = LZ4F_decompress(ctx, out.data(), &out_used, frame, &in_used, &options);
  if (LZ4F_isError(hint)) {
    LZ4F_resetDecompressionContext(ctx);
    throw Error(where, std::string("corrupt LZ4 data: ") + LZ4F_getErrorName(hint));
  }
  if (hint != 0 || in_used != size || out_used != content_size) {
    LZ4F_resetDecompressionContext(ctx);
    throw Error(where, "corrupt LZ4 frame: content does not match its declared size");
  }
  return out_used;
}

}  // namespace shmstack::lz4
