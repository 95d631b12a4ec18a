#include "hl7v2/mllp.h"

#include <cassert>

namespace midhurst::hl7v2 {
namespace {

bool is_whitespace(char c) { return c == '\r' || c == '\n' || c == ' ' || c == '\t'; }

std::string at(uint64_t offset) { return "at offset " + std::to_string(offset); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Encoding

void mllp_frame_append(std::string_view payload, std::string& out) {
  out.reserve(out.size() + payload.size() + 3);
  out.push_back(kMllpStartBlock);
  out.append(payload);
  out.push_back(kMllpEndBlock);
  out.push_back(kMllpEndCr);
}

std::string mllp_frame(std::string_view payload) {
  std::string out;
  mllp_frame_append(payload, out);
  return out;
}

bool mllp_can_frame(std::string_view payload) {
  return payload.find_first_of(std::string_view("\x0B\x1C", 2)) == std::string_view::npos;
}

const char* mllp_error_name(MllpErrorKind kind) {
  switch (kind) {
    case MllpErrorKind::kStrayWhitespace: return "stray whitespace";
    case MllpErrorKind::kBytesOutsideFrame: return "bytes outside frame";
    case MllpErrorKind::kMissingEndCr: return "missing CR after end block";
    case MllpErrorKind::kNestedStartBlock: return "start block inside frame";
    case MllpErrorKind::kFrameTooLarge: return "frame too large";
    case MllpErrorKind::kTruncatedFrame: return "truncated frame";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Decoding

MllpDecoder::MllpDecoder(MllpDecoderOptions options) : options_(options) {}

void MllpDecoder::carry_open_frame() {
  // The last frame returned may live in buffer_; it is invalidated here, as documented.
  if (!buffer_open_) buffer_.clear();
  if (state_ == State::kInFrame || (state_ == State::kAfterEnd && !skipped_end_)) {
    buffer_.append(input_.data() + frame_begin_, frame_end_ - frame_begin_);
    buffer_open_ = true;
  }
  frame_begin_ = frame_end_ = 0;
  frame_ = {};
  frame_in_buffer_ = false;
}

void MllpDecoder::feed(std::string_view bytes) {
  // Feeding before draining would drop the unread rest of the previous read.
  assert(pos_ == input_.size() && !frame_pending_ && "drain next() before feed()");
  assert(!finishing_ && "feed() after finish()");
  carry_open_frame();
  input_offset_ += input_.size();
  input_ = bytes;
  pos_ = 0;
  stats_.bytes_fed += bytes.size();
}

void MllpDecoder::finish() {
  assert(pos_ == input_.size() && !frame_pending_ && "drain next() before finish()");
  assert(!finishing_ && "finish() called twice");
  carry_open_frame();
  input_offset_ += input_.size();
  input_ = {};
  pos_ = 0;
  finishing_ = true;
}

void MllpDecoder::start_frame(size_t start_block_index) {
  // Every path that leaves a frame clears buffer_open_ first, so nothing is carried over.
  assert(!buffer_open_);
  state_ = State::kInFrame;
  frame_start_ = stream_offset(start_block_index);
  frame_size_ = 0;
  frame_begin_ = frame_end_ = start_block_index + 1;
  pos_ = start_block_index + 1;
}

void MllpDecoder::complete_frame() {
  frame_offset_ = frame_start_;
  if (buffer_open_) {
    buffer_.append(input_.data() + frame_begin_, frame_end_ - frame_begin_);
    buffer_open_ = false;
    frame_ = buffer_;
    frame_in_buffer_ = true;
  } else {
    frame_ = input_.substr(frame_begin_, frame_end_ - frame_begin_);
    frame_in_buffer_ = false;
  }
  state_ = State::kBetween;
}

MllpEvent MllpDecoder::report(MllpErrorKind kind, uint64_t offset, uint64_t length, std::string text) {
  error_.kind = kind;
  error_.offset = offset;
  error_.length = length;
  error_.text = std::move(text);
  ++stats_.errors;
  return MllpEvent::kError;
}

bool MllpDecoder::flush_outside(MllpEvent* event) {
  if (outside_length_ == 0) return false;
  const bool ws = outside_whitespace_;
  *event = report(ws ? MllpErrorKind::kStrayWhitespace : MllpErrorKind::kBytesOutsideFrame, outside_start_,
                  outside_length_,
                  std::to_string(outside_length_) + (ws ? " whitespace" : "") + " byte(s) outside any frame " +
                      at(outside_start_) + " skipped");
  outside_length_ = 0;
  outside_whitespace_ = true;
  return true;
}

MllpEvent MllpDecoder::end_of_stream() {
  finished_ = true;
  const State state = state_;
  state_ = State::kBetween;
  MllpEvent event = MllpEvent::kNeedMore;
  switch (state) {
    case State::kBetween:
      flush_outside(&event);
      return event;
    case State::kInFrame:
      stats_.discarded_bytes += frame_size_;
      buffer_open_ = false;
      return report(MllpErrorKind::kTruncatedFrame, frame_start_, frame_size_,
                    "the stream ended inside the frame that began " + at(frame_start_) + ", after " +
                        std::to_string(frame_size_) + " payload byte(s) and no end block; frame discarded");
    case State::kAfterEnd:
      if (skipped_end_) {  // the end of an oversize frame, already reported
        skipped_end_ = false;
        return event;
      }
      complete_frame();
      frame_pending_ = true;
      return report(MllpErrorKind::kMissingEndCr, input_offset_, 0,
                    "the stream ended after the end block of the frame that began " + at(frame_offset_) +
                        ", without its CR; frame delivered");
    case State::kSkipping:  // an oversize frame cut short: already reported
      return event;
  }
  return event;
}

MllpEvent MllpDecoder::next() {
  if (frame_pending_) {
    frame_pending_ = false;
    ++stats_.frames;
    return MllpEvent::kFrame;
  }
  const size_t n = input_.size();
  const char* p = input_.data();
  while (pos_ < n) {
    switch (state_) {
      case State::kBetween: {
        size_t sb = input_.find(kMllpStartBlock, pos_);
        const size_t end = sb == std::string_view::npos ? n : sb;
        if (end > pos_) {
          if (outside_length_ == 0) outside_start_ = stream_offset(pos_);
          for (size_t i = pos_; i < end && outside_whitespace_; ++i) outside_whitespace_ = is_whitespace(p[i]);
          outside_length_ += end - pos_;
          stats_.outside_bytes += end - pos_;
          pos_ = end;
        }
        if (sb == std::string_view::npos) break;
        start_frame(sb);
        // The run before the start block is reported now that it has ended, so that a run
        // split across reads is still one report.
        MllpEvent event;
        if (flush_outside(&event)) return event;
        break;
      }

      case State::kInFrame: {
        // Scan no further than one byte past the limit, so that an oversize frame is caught
        // without looking at (or buffering) the rest of it.
        const uint64_t allowance = options_.max_frame_bytes - frame_size_;  // frame_size_ <= max
        const size_t stop = allowance < n - pos_ ? pos_ + static_cast<size_t>(allowance) + 1 : n;
        size_t i = pos_;
        while (i < stop && p[i] != kMllpStartBlock && p[i] != kMllpEndBlock) ++i;
        frame_size_ += i - pos_;
        frame_end_ = i;
        pos_ = i;
        if (frame_size_ > options_.max_frame_bytes) {
          stats_.discarded_bytes += frame_size_;
          if (buffer_open_) buffer_.clear();
          buffer_open_ = false;
          state_ = State::kSkipping;
          return report(MllpErrorKind::kFrameTooLarge, frame_start_, frame_size_,
                        "the frame that began " + at(frame_start_) + " is longer than the limit of " +
                            std::to_string(options_.max_frame_bytes) +
                            " bytes; it is skipped up to its end block or the next start block");
        }
        if (i == n) break;  // the read ends inside the frame
        if (p[i] == kMllpEndBlock) {
          state_ = State::kAfterEnd;
          skipped_end_ = false;
          pos_ = i + 1;
          break;
        }
        // A start block inside the frame: the open frame is broken.
        const uint64_t discarded = frame_size_;
        const uint64_t broken_start = frame_start_;
        stats_.discarded_bytes += discarded;
        if (buffer_open_) buffer_.clear();
        buffer_open_ = false;
        start_frame(i);
        return report(MllpErrorKind::kNestedStartBlock, stream_offset(i), discarded,
                      "start block " + at(stream_offset(i)) + " inside the frame that began " + at(broken_start) +
                          ": that frame's " + std::to_string(discarded) +
                          " payload byte(s) are discarded and a new frame begins");
      }

      case State::kSkipping: {
        size_t i = pos_;
        while (i < n && p[i] != kMllpStartBlock && p[i] != kMllpEndBlock) ++i;
        stats_.discarded_bytes += i - pos_;
        pos_ = i;
        if (i == n) break;
        if (p[i] == kMllpEndBlock) {
          state_ = State::kAfterEnd;
          skipped_end_ = true;
          pos_ = i + 1;
        } else {
          start_frame(i);  // resynchronised; the oversize frame was reported already
        }
        break;
      }

      case State::kAfterEnd: {
        const bool cr = p[pos_] == kMllpEndCr;
        // The CR belongs to the frame; any other byte is left to be read outside it.
        if (cr) ++pos_;
        if (skipped_end_) {
          skipped_end_ = false;
          state_ = State::kBetween;
          break;
        }
        complete_frame();
        if (cr) {
          ++stats_.frames;
          return MllpEvent::kFrame;
        }
        frame_pending_ = true;
        return report(MllpErrorKind::kMissingEndCr, stream_offset(pos_), 0,
                      "the end block of the frame that began " + at(frame_offset_) +
                          " is followed by a byte other than CR " + at(stream_offset(pos_)) +
                          "; frame delivered, that byte is read as outside the frame");
      }
    }
  }
  if (finishing_ && !finished_) return end_of_stream();
  return MllpEvent::kNeedMore;
}

std::string MllpDecoder::take_frame() {
  std::string out;
  if (frame_in_buffer_) {
    out = std::move(buffer_);
    buffer_.clear();  // a moved-from string is valid but unspecified
  } else {
    out.assign(frame_);
  }
  frame_ = {};
  frame_in_buffer_ = false;
  return out;
}

}  // namespace midhurst::hl7v2
