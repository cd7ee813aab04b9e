#include "archive/frame_window.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace shmstack {
namespace {

// How much a read() stream reads beyond the largest frame.
constexpr std::size_t kReadAhead = std::size_t{1} << 20;

// A mapped file: every byte is available, and stays where it is.
class InPlaceWindow final : public FrameWindow {
 public:
  InPlaceWindow(std::string_view bytes, std::atomic<std::uint64_t>& consumed) : consumed_(consumed) {
    at_ = bytes.data();
    available_ = bytes.size();
  }
  void skip(std::size_t n) override {
    FrameWindow::skip(n);
    consumed_ = offset_;
  }
  bool more(std::size_t need) override { return available_ >= need; }
  // The mapping lives as long as the reader: a hold that owns nothing.
  std::shared_ptr<const void> lend() const override { return {std::shared_ptr<const void>(), at_}; }

 private:
  std::atomic<std::uint64_t>& consumed_;
};

// A stream read() into a buffer that holds the largest frame.
class ReadWindow final : public FrameWindow {
 public:
  ReadWindow(ByteSource& source, const std::vector<char>& prefix, std::atomic<std::uint64_t>& consumed)
      : source_(source), consumed_(consumed), buf_(std::max(kMaxFrameBytes, prefix.size()) + kReadAhead) {
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
class PieceWindow final : public FrameWindow {
 public:
  PieceWindow(ByteSource& source, const std::vector<char>& prefix, std::atomic<std::uint64_t>& consumed)
      : source_(source), consumed_(consumed), assembly_(prefix) {
    at_ = assembly_.data();
    available_ = assembly_.size();
  }
  void skip(std::size_t n) override {
    FrameWindow::skip(n);
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

std::unique_ptr<FrameWindow> open_frame_window(ByteSource& source, const std::vector<char>& prefix,
                                               std::atomic<std::uint64_t>& consumed) {
  if (InPlaceBytes* whole = source.in_place()) return std::make_unique<InPlaceWindow>(whole->bytes(), consumed);
  if (source.lends_pieces()) return std::make_unique<PieceWindow>(source, prefix, consumed);
  return std::make_unique<ReadWindow>(source, prefix, consumed);
}

}  // namespace shmstack
