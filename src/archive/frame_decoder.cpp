#include "archive/frame_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <exception>
#include <string>
#include <thread>

#include "archive/frame_window.hpp"
#include "archive/lz4_frames.hpp"
#include "base/cancel.hpp"
#include "base/chunk_pipeline.hpp"
#include "base/error.hpp"

namespace shmstack {
namespace {

struct FrameChunk : ChunkBase {
  const char* in_data = nullptr;        // the frame: where it lies (held by in_hold), or in `in`
  std::shared_ptr<const void> in_hold;  // dropped once decoded
  std::vector<char> in;
  std::size_t in_size = 0;
  std::size_t content_size = 0;
  std::uint64_t hash = 0;
  std::uint64_t offset = 0;  // of the frame in the archive, for messages
  std::vector<char> out;
  std::size_t out_size = 0;
};

}  // namespace

bool is_shmstack_archive(const std::vector<char>& prefix) {
  lz4::FrameScan frame = lz4::scan_frame(prefix.data(), prefix.size());
  if (frame.status != lz4::FrameScan::Status::frame) return false;
  lz4::Trailer trailer;
  std::size_t rest = prefix.size() - frame.length;
  return rest >= lz4::kTrailerSize && lz4::parse_trailer(prefix.data() + frame.length, lz4::kTrailerSize, trailer);
}

struct FrameDecoder::Impl {
  ByteSource& source;
  const std::vector<char>& prefix;
  std::atomic<std::uint64_t>& consumed;
  BusyTime decode_time;  // outlives the pipeline's workers
  BusyTime pool_wait;    // the reader, waiting for a free chunk
  std::unique_ptr<ChunkPipeline<FrameChunk>> pipeline;
  std::thread reader;

  Impl(ByteSource& s, const std::vector<char>& p, std::atomic<std::uint64_t>& c) : source(s), prefix(p), consumed(c) {}

  std::string where(std::uint64_t offset) const {
    return "archive " + quote(source.name()) + " at byte " + std::to_string(offset);
  }

  // The reader thread: carve frames, check trailers, submit.
  // Frames of a mapped file, or of pieces lent by the source, are decoded
  // where they lie; a read() stream's are copied into their chunk.
  void carve() {
    std::unique_ptr<FrameWindow> window = open_frame_window(source, prefix, consumed);
    try {
      carve_frames(*window, source.in_place());
    } catch (const Error&) {
      check_intact();  // a frame read as zeros because the file shrank: say so
      throw;
    }
  }

  // Scans the next frame (or skippable frame), reading as much as it needs.
  lz4::FrameScan next_frame(FrameWindow& w) {
    for (;;) {
      lz4::FrameScan scan = lz4::scan_frame(w.at(), w.available());
      if (scan.status != lz4::FrameScan::Status::need_more) return scan;
      if (scan.need > kMaxFrameBytes)
        throw Error("cannot read " + where(w.offset()),
                    "corrupt archive: an LZ4 frame larger than any shmstack writes");
      if (!w.more(scan.need)) return scan;  // the archive ends first
    }
  }

  void carve_frames(FrameWindow& w, InPlaceBytes* whole) {
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
      FrameChunk& chunk = [&]() -> FrameChunk& {
        BusyTime::Span waiting(pool_wait);
        return pipeline->acquire();
      }();
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

  void start(unsigned threads) {
    // Each worker thread keeps its own decompression context.
    auto transform = [this](FrameChunk& chunk) {
      thread_local lz4::Decompressor decompressor;
      BusyTime::Span busy(decode_time);
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
      check_intact();         // zeros that happened to decode are no better
      chunk.in_hold.reset();  // a lent buffer goes back as soon as possible
    };
    std::size_t depth = 2 * std::max(1u, threads) + 2;
    pipeline = std::make_unique<ChunkPipeline<FrameChunk>>(threads, depth, transform);
    reader = std::thread([this] { pipeline->guard([this] { carve(); }); });
  }
};

FrameDecoder::FrameDecoder(ByteSource& source, const std::vector<char>& prefix, std::atomic<std::uint64_t>& consumed,
                           unsigned threads)
    : impl_(std::make_unique<Impl>(source, prefix, consumed)) {
  impl_->start(threads);
}

// Runs whether the owner completed or threw after the reader started: stop
// the pipeline, unblock and join the reader.
FrameDecoder::~FrameDecoder() {
  impl_->pipeline->fail(std::make_exception_ptr(Error("reader", "stopped")));
  impl_->source.interrupt();
  if (impl_->reader.joinable()) impl_->reader.join();
}

double FrameDecoder::decode_seconds() const { return impl_->decode_time.seconds(); }

double FrameDecoder::pool_wait_seconds() const { return impl_->pool_wait.seconds(); }

FrameDecoder::Decoded FrameDecoder::next() {
  ChunkPipeline<FrameChunk>* pipeline = impl_->pipeline.get();
  FrameChunk* chunk = pipeline->next();
  if (!chunk) return {};
  return {chunk->out.data(), chunk->out_size,
          std::shared_ptr<const void>(chunk, [pipeline, chunk](const void*) { pipeline->release(*chunk); })};
}

}  // namespace shmstack
