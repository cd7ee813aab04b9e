// Tests lz4_frames: encode/scan/trailer/decode of frames, and damage detection.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "archive/lz4_frames.hpp"

namespace lz4 = shmstack::lz4;
using Status = lz4::FrameScan::Status;

namespace {

std::vector<char> random_bytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<char> data(size);
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = random();
    std::memcpy(data.data() + i, &word, std::min<std::size_t>(8, size - i));
  }
  return data;
}

// Text-like bytes that compress well but not to nothing.
std::vector<char> compressible_bytes(std::size_t size, std::uint64_t seed) {
  static const std::string words[] = {"import ", "numpy ", "as ", "np\n", "def ", "return ", "self", "(x)"};
  std::mt19937_64 random(seed);
  std::vector<char> data;
  data.reserve(size + 16);
  while (data.size() < size) {
    const std::string& word = words[random() % 8];
    data.insert(data.end(), word.begin(), word.end());
  }
  data.resize(size);
  return data;
}

struct Encoded {
  std::vector<char> bytes;   // frame + trailer
  std::size_t frame_size = 0;
};

Encoded encode(const std::vector<char>& data, int level, std::uint64_t seq) {
  lz4::Compressor compressor(level);
  Encoded encoded;
  std::size_t size = compressor.encode(data.data(), data.size(), seq, encoded.bytes);
  REQUIRE(size <= encoded.bytes.size());
  encoded.bytes.resize(size);
  lz4::FrameScan scan = lz4::scan_frame(encoded.bytes.data(), encoded.bytes.size());
  REQUIRE(scan.status == Status::frame);
  encoded.frame_size = scan.length;
  return encoded;
}

std::vector<char> decode(const Encoded& encoded, std::size_t content_size) {
  lz4::Decompressor decompressor;
  std::vector<char> out;
  std::size_t n = decompressor.decode(encoded.bytes.data(), encoded.frame_size, content_size, out, "frame 0");
  REQUIRE(n == content_size);
  REQUIRE(out.size() >= n);
  out.resize(n);
  return out;
}

// Writes a skippable frame with the given magic low nibble and payload.
std::vector<char> skippable_frame(std::uint32_t nibble, const std::string& payload) {
  std::vector<char> frame(8 + payload.size());
  std::uint32_t magic = 0x184D2A50u | nibble;
  auto length = static_cast<std::uint32_t>(payload.size());
  std::memcpy(frame.data(), &magic, 4);
  std::memcpy(frame.data() + 4, &length, 4);
  std::memcpy(frame.data() + 8, payload.data(), payload.size());
  return frame;
}

}  // namespace

TEST_CASE("encode, scan, parse_trailer and decode agree, for each level and size") {
  const int levels[] = {1, 3, 9, -5};
  const std::size_t sizes[] = {1, 1000, 77777, lz4::kFrameContent};
  for (std::size_t size : sizes) {
    for (bool random : {true, false}) {
      std::vector<char> data = random ? random_bytes(size, size + 1) : compressible_bytes(size, size + 2);
      for (int level : levels) {
        CAPTURE(level);
        CAPTURE(size);
        CAPTURE(random);
        const std::uint64_t seq = 1000 + size;
        Encoded encoded = encode(data, level, seq);

        CHECK(encoded.bytes.size() == encoded.frame_size + lz4::kTrailerSize);
        lz4::FrameScan exact = lz4::scan_frame(encoded.bytes.data(), encoded.frame_size);
        CHECK(exact.status == Status::frame);
        CHECK(exact.length == encoded.frame_size);
        CHECK(encoded.bytes.size() <= lz4::encoded_bound(size));
        lz4::FrameScan scan = lz4::scan_frame(encoded.bytes.data(), encoded.bytes.size());
        if (size > 0) CHECK(scan.has_content_size);  // empty input: see the next test
        CHECK(scan.content_size == size);

        const char* trailer_bytes = encoded.bytes.data() + encoded.frame_size;
        lz4::FrameScan trailer_scan = lz4::scan_frame(trailer_bytes, lz4::kTrailerSize);
        CHECK(trailer_scan.status == Status::skippable);
        CHECK(trailer_scan.length == lz4::kTrailerSize);
        lz4::Trailer trailer;
        REQUIRE(lz4::parse_trailer(trailer_bytes, lz4::kTrailerSize, trailer));
        CHECK(trailer.seq == seq);
        CHECK(trailer.frame_size == encoded.frame_size);
        CHECK(trailer.hash == lz4::hash_frame(encoded.bytes.data(), encoded.frame_size));

        CHECK(decode(encoded, size) == data);
      }
    }
  }
}

// The header promises "the content size in its header" for every frame, and the
// reader (tar_reader.cpp) rejects a frame without one. LZ4F omits the field when
// the content size is 0, so encode refuses empty input rather than make a frame
// readers would reject.
TEST_CASE("an empty chunk is refused rather than encoded without a content size") {
  CHECK_THROWS_AS(encode({}, 1, 0), shmstack::Error);
}

TEST_CASE("compressible data is smaller once encoded") {
  std::vector<char> data = compressible_bytes(lz4::kFrameContent, 7);
  Encoded encoded = encode(data, 1, 0);
  CHECK(encoded.frame_size < data.size() / 2);
}

TEST_CASE("Compressor keeps its level and is reusable") {
  lz4::Compressor compressor(-5);
  CHECK(compressor.level() == -5);
  lz4::Decompressor decompressor;
  std::vector<char> out;
  std::vector<char> decoded;
  for (std::uint64_t seq = 0; seq < 3; ++seq) {
    std::vector<char> data = random_bytes(5000 + seq * 100, seq);
    std::size_t size = compressor.encode(data.data(), data.size(), seq, out);
    lz4::FrameScan scan = lz4::scan_frame(out.data(), size);
    REQUIRE(scan.status == Status::frame);
    lz4::Trailer trailer;
    REQUIRE(lz4::parse_trailer(out.data() + scan.length, size - scan.length, trailer));
    CHECK(trailer.seq == seq);
    CHECK(decompressor.decode(out.data(), scan.length, data.size(), decoded, "w") == data.size());
    CHECK(std::vector<char>(decoded.begin(), decoded.begin() + static_cast<std::ptrdiff_t>(data.size())) == data);
  }
}

TEST_CASE("a frame of several blocks is scanned and decoded") {
  // Larger than one 1 MiB block, still within what a reader accepts.
  std::vector<char> data = random_bytes(lz4::kMaxFrameContent - 12345, 99);
  Encoded encoded = encode(data, 1, 5);
  CHECK(encoded.frame_size > lz4::kFrameContent * 3);
  CHECK(decode(encoded, data.size()) == data);
}

TEST_CASE("scan_frame finds only the first frame in a stream of frames") {
  std::vector<char> stream;
  std::vector<std::vector<char>> parts;
  for (std::uint64_t seq = 0; seq < 3; ++seq) {
    parts.push_back(compressible_bytes(10000 + seq, seq));
    Encoded encoded = encode(parts.back(), 1, seq);
    stream.insert(stream.end(), encoded.bytes.begin(), encoded.bytes.end());
  }
  std::size_t pos = 0;
  lz4::Decompressor decompressor;
  for (std::uint64_t seq = 0; seq < 3; ++seq) {
    lz4::FrameScan frame = lz4::scan_frame(stream.data() + pos, stream.size() - pos);
    REQUIRE(frame.status == Status::frame);
    std::vector<char> out;
    decompressor.decode(stream.data() + pos, frame.length, frame.content_size, out, "stream");
    out.resize(frame.content_size);
    CHECK(out == parts[seq]);
    lz4::Trailer trailer;
    REQUIRE(lz4::parse_trailer(stream.data() + pos + frame.length, lz4::kTrailerSize, trailer));
    CHECK(trailer.seq == seq);
    CHECK(trailer.hash == lz4::hash_frame(stream.data() + pos, frame.length));
    pos += frame.length + lz4::kTrailerSize;
  }
  CHECK(pos == stream.size());
}

TEST_CASE("scan_frame needs more for every strict prefix of a frame") {
  for (bool random : {true, false}) {
    CAPTURE(random);
    // Two blocks, so prefixes end inside the header, block sizes, block data and the end mark.
    std::size_t size = lz4::kFrameContent + 70000;
    std::vector<char> data = random ? random_bytes(size, 3) : compressible_bytes(size, 4);
    Encoded encoded = encode(data, 1, 0);
    std::size_t wrong = 0;
    for (std::size_t prefix = 0; prefix < encoded.frame_size; ++prefix)
      if (lz4::scan_frame(encoded.bytes.data(), prefix).status != Status::need_more) ++wrong;
    CHECK(wrong == 0);
    const char* trailer = encoded.bytes.data() + encoded.frame_size;
    for (std::size_t prefix = 0; prefix < lz4::kTrailerSize; ++prefix) {
      CAPTURE(prefix);
      CHECK(lz4::scan_frame(trailer, prefix).status == Status::need_more);
    }
  }
}

TEST_CASE("scan_frame reports not_lz4 for other data") {
  const std::string garbage = "this is certainly not an LZ4 frame";
  lz4::FrameScan scan = lz4::scan_frame(garbage.data(), garbage.size());
  CHECK(scan.status == Status::not_lz4);
  CHECK_FALSE(scan.problem.empty());

  const std::vector<char> zeros(512, '\0');  // like the end of a tar stream
  CHECK(lz4::scan_frame(zeros.data(), zeros.size()).status == Status::not_lz4);

  const char gzip[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
  CHECK(lz4::scan_frame(gzip, sizeof gzip - 1).status == Status::not_lz4);
}

TEST_CASE("scan_frame steps over any skippable frame") {
  for (std::uint32_t nibble : {0u, 3u, 0xEu, 0xFu}) {
    CAPTURE(nibble);
    std::vector<char> frame = skippable_frame(nibble, "hello");
    std::vector<char> with_more = frame;
    with_more.insert(with_more.end(), {'x', 'y', 'z'});
    lz4::FrameScan scan = lz4::scan_frame(with_more.data(), with_more.size());
    CHECK(scan.status == Status::skippable);
    CHECK(scan.length == 13);
    for (std::size_t prefix = 0; prefix < frame.size(); ++prefix)
      CHECK(lz4::scan_frame(frame.data(), prefix).status == Status::need_more);
  }
  std::vector<char> empty = skippable_frame(1, "");
  lz4::FrameScan scan = lz4::scan_frame(empty.data(), empty.size());
  CHECK(scan.status == Status::skippable);
  CHECK(scan.length == 8);
}

TEST_CASE("parse_trailer rejects what is not a shmstack trailer") {
  Encoded encoded = encode(compressible_bytes(1000, 1), 1, 42);
  std::vector<char> trailer(encoded.bytes.begin() + static_cast<std::ptrdiff_t>(encoded.frame_size),
                            encoded.bytes.end());
  lz4::Trailer parsed;
  REQUIRE(lz4::parse_trailer(trailer.data(), trailer.size(), parsed));
  CHECK_FALSE(lz4::parse_trailer(trailer.data(), trailer.size() - 1, parsed));

  std::vector<char> wrong_tag = trailer;
  wrong_tag[8] = 'X';
  CHECK_FALSE(lz4::parse_trailer(wrong_tag.data(), wrong_tag.size(), parsed));

  std::vector<char> other_skippable = skippable_frame(0xE, std::string(24, 'a'));
  CHECK_FALSE(lz4::parse_trailer(other_skippable.data(), other_skippable.size(), parsed));

  std::vector<char> other_magic = skippable_frame(0x0, std::string(trailer.begin() + 8, trailer.end()));
  CHECK_FALSE(lz4::parse_trailer(other_magic.data(), other_magic.size(), parsed));
}

TEST_CASE("scan_frame reports a corrupt frame header or block size") {
  Encoded encoded = encode(random_bytes(5000, 8), 1, 0);
  std::vector<char> bad_version = encoded.bytes;
  bad_version[4] = static_cast<char>(bad_version[4] ^ 0xC0);
  lz4::FrameScan scan = lz4::scan_frame(bad_version.data(), bad_version.size());
  CHECK(scan.status == Status::corrupt);
  CHECK_FALSE(scan.problem.empty());

  // The first block-size word follows the 4-byte magic, FLG, BD, 8-byte size and header checksum.
  std::vector<char> huge_block = encoded.bytes;
  const std::uint32_t too_big = (std::uint32_t{4} << 20) + 1;
  std::memcpy(huge_block.data() + 15, &too_big, 4);
  CHECK(lz4::scan_frame(huge_block.data(), huge_block.size()).status == Status::corrupt);
}

TEST_CASE("a flipped byte anywhere in the frame changes hash_frame") {
  Encoded encoded = encode(compressible_bytes(20000, 5), 1, 0);
  const std::uint64_t good = lz4::hash_frame(encoded.bytes.data(), encoded.frame_size);
  for (std::size_t pos = 0; pos < encoded.frame_size; pos += 97) {
    for (unsigned bit : {0u, 7u}) {
      std::vector<char> damaged = encoded.bytes;
      damaged[pos] = static_cast<char>(damaged[pos] ^ (1u << bit));
      CAPTURE(pos);
      CHECK(lz4::hash_frame(damaged.data(), encoded.frame_size) != good);
    }
  }
  std::vector<char> last = encoded.bytes;
  last[encoded.frame_size - 1] = static_cast<char>(last[encoded.frame_size - 1] ^ 0x01);
  CHECK(lz4::hash_frame(last.data(), encoded.frame_size) != good);
}

TEST_CASE("decode of a damaged frame throws an Error naming where") {
  std::vector<char> data = compressible_bytes(300000, 11);
  Encoded encoded = encode(data, 1, 0);
  lz4::Decompressor decompressor;
  std::vector<char> out;
  const std::string where = "archive.tar.lz4, frame 7";

  auto check_damaged = [&](const std::vector<char>& frame, std::size_t size, std::size_t content) {
    try {
      decompressor.decode(frame.data(), size, content, out, where);
      FAIL("decode accepted a damaged frame");
    } catch (const shmstack::Error& error) {
      CHECK(error.operation() == where);
      CHECK_FALSE(error.reason().empty());
    }
  };

  SUBCASE("truncated") {
    check_damaged(encoded.bytes, encoded.frame_size - 1, data.size());
    check_damaged(encoded.bytes, encoded.frame_size / 2, data.size());
  }
  SUBCASE("with bytes after the frame") {
    check_damaged(encoded.bytes, encoded.frame_size + 4, data.size());
  }
  SUBCASE("a flipped bit in the header") {
    std::vector<char> damaged = encoded.bytes;
    damaged[7] = static_cast<char>(damaged[7] ^ 0x01);  // the content size; the header checksum no longer matches
    check_damaged(damaged, encoded.frame_size, data.size());
  }
  SUBCASE("block data overwritten") {
    std::vector<char> damaged = encoded.bytes;
    std::uint32_t block_word;
    std::memcpy(&block_word, damaged.data() + 15, 4);
    REQUIRE((block_word & 0x80000000u) == 0);  // a compressed block
    std::memset(damaged.data() + 19, 0xFF, block_word & 0x7FFFFFFFu);
    check_damaged(damaged, encoded.frame_size, data.size());
  }
  SUBCASE("a different content size than the frame holds") {
    check_damaged(encoded.bytes, encoded.frame_size, data.size() - 1);
    check_damaged(encoded.bytes, encoded.frame_size, data.size() + 1);
  }

  // The context is reset after a failure and decodes a good frame again.
  CHECK(decompressor.decode(encoded.bytes.data(), encoded.frame_size, data.size(), out, where) == data.size());
  out.resize(data.size());
  CHECK(out == data);
}
