// MLLP: the Minimal Lower Layer Protocol that carries HL7v2 messages over a byte stream.
//
// Release 1 framing (HL7 v2.x Implementation Guide: Transport Specification MLLP, release 1;
// also v2.5 appendix C.4.3):
//
//     <SB> payload <EB><CR>     SB = 0x0B, EB = 0x1C, CR = 0x0D
//
// The payload may hold any byte except SB and EB. This file is the codec only: no sockets, no
// ACK logic, and the payload is not checked to be HL7 (that is Message::parse's job).
//
// Decoding is incremental: MllpDecoder takes the bytes as they arrive, in reads of any size
// (a frame may be split across any number of reads, and one read may hold several frames),
// and hands back frames and framing errors in stream order through a pull API:
//
//     MllpDecoder decoder;
//     while (read some bytes into buf) {
//       decoder.feed(buf);
//       for (MllpEvent e; (e = decoder.next()) != MllpEvent::kNeedMore;) {
//         if (e == MllpEvent::kFrame) handle(decoder.frame());
//         else log(decoder.error());
//       }
//     }
//     decoder.finish();  // end of stream: reports a truncated frame or trailing bytes
//     for (MllpEvent e; (e = decoder.next()) != MllpEvent::kNeedMore;) ...
//
// IMPORTANT: Buffer lifetime.
//  - The bytes passed to feed() are borrowed, not copied (except the unfinished tail of a
//    frame, which is copied when the next feed() or finish() is called). They must stay valid
//    and unchanged until that next feed() or finish(), or until the decoder is destroyed.
//  - A frame returned by frame() is a view either into those borrowed bytes (a frame that
//    lies wholly inside one read: no copy at all) or into the decoder's own buffer (a frame
//    that spans reads: its bytes are copied once). Either way it stays valid until the next
//    feed() or finish(), or take_frame(), or the decoder's destruction, so every frame of one
//    read can be held at once. Copy it (or use take_frame()) to keep it longer.
//  - Memory: the decoder buffers at most one unfinished frame, so at most max_frame_bytes.
//
// Malformed framing. Every problem is reported as an MllpError (in stream order, before the
// frame it concerns, if any) and decoding carries on; nothing is dropped in silence:
//  - Bytes outside a frame (before a start block, between frames, after the last frame) are
//    skipped. Each run of them is reported once, when it ends (at the next start block or at
//    the end of the stream): kStrayWhitespace when the run is only CR, LF, space and tab
//    (common: senders that end a frame with an extra newline), kBytesOutsideFrame otherwise.
//  - An end block not followed by CR (kMissingEndCr): the frame is still delivered, after the
//    error. The payload cannot hold an end block, so the frame is known to be complete and
//    intact; only its trailer is wrong. The byte after the end block is then read as the
//    first byte outside the frame (so a start block there opens the next frame).
//  - A start block inside an open frame (kNestedStartBlock): the open frame is broken (most
//    likely a sender that gave up on a partial write and started again). Its bytes are
//    discarded, since a cut-off message must not be ACKed as if whole, and the new start block
//    opens a new frame.
//  - A payload longer than max_frame_bytes (kFrameTooLarge): reported as soon as the limit is
//    passed; the rest of that frame is skipped without being buffered, up to its end block
//    (or the next start block, whichever comes first), where decoding resynchronises.
//  - End of stream inside a frame (kTruncatedFrame, from finish()): the partial frame is
//    discarded.
//  - An empty frame (SB EB CR) is delivered as an empty payload; whether that is an error is
//    the caller's decision.
//
// Threading: a decoder is not thread-safe; use one per connection. The free functions are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace midhurst::hl7v2 {

inline constexpr char kMllpStartBlock = '\x0B';
inline constexpr char kMllpEndBlock = '\x1C';
inline constexpr char kMllpEndCr = '\x0D';

// ---------------------------------------------------------------------------------------------
// Encoding

// Appends SB payload EB CR to `out`.
// REQUIRES: mllp_can_frame(payload). This is not checked: a payload holding SB or EB produces
// a frame that decodes as something else (HL7 text never holds them; callers that frame
// untrusted bytes check first).
void mllp_frame_append(std::string_view payload, std::string& out);

// Returns SB payload EB CR. Same requirement as mllp_frame_append.
std::string mllp_frame(std::string_view payload);

// True iff `payload` holds neither a start block nor an end block, so that framing it gives
// back exactly `payload` when decoded.
bool mllp_can_frame(std::string_view payload);

// ---------------------------------------------------------------------------------------------
// Decoding

enum class MllpErrorKind : uint8_t {
  kStrayWhitespace,    // a run of CR/LF/space/tab outside any frame, skipped
  kBytesOutsideFrame,  // a run of other bytes outside any frame, skipped
  kMissingEndCr,       // an end block followed by something other than CR (frame delivered)
  kNestedStartBlock,   // a start block inside an open frame (open frame discarded)
  kFrameTooLarge,      // payload longer than max_frame_bytes (frame skipped)
  kTruncatedFrame,     // the stream ended inside a frame (frame discarded)
};

// "stray whitespace", "bytes outside frame", ...: a short stable name for logs and metrics.
const char* mllp_error_name(MllpErrorKind kind);

struct MllpError {
  MllpErrorKind kind = MllpErrorKind::kBytesOutsideFrame;
  // Byte offset in the stream (0 = first byte ever fed) where the problem is:
  //   kStrayWhitespace, kBytesOutsideFrame: the first skipped byte;
  //   kMissingEndCr: the byte after the end block (the stream's length if it ended there);
  //   kNestedStartBlock: the new start block;
  //   kFrameTooLarge, kTruncatedFrame: the start block of the frame concerned.
  uint64_t offset = 0;
  // Bytes concerned: the skipped run; the discarded payload (kNestedStartBlock,
  // kTruncatedFrame); max_frame_bytes + 1, the bytes seen when the limit was passed
  // (kFrameTooLarge); 0 for kMissingEndCr.
  uint64_t length = 0;
  // One sentence saying what happened and what the decoder did about it.
  std::string text;
};

enum class MllpEvent : uint8_t {
  kNeedMore,  // every event from the bytes fed so far has been returned
  kFrame,     // frame() holds a complete payload
  kError,     // error() describes a framing problem
};

struct MllpDecoderOptions {
  // The longest payload accepted, in bytes (start and end blocks not counted). Default 1 MiB:
  // far above a typical ADT message (a few KiB) yet small enough that a stream with a lost
  // end block cannot make the decoder hold much memory. Messages with embedded documents
  // (ORU with base64 PDFs, MDM) may need more. 0 accepts only empty frames.
  size_t max_frame_bytes = size_t{1} << 20;
};

// Running totals since construction, for metrics.
struct MllpStats {
  uint64_t bytes_fed = 0;        // every byte passed to feed()
  uint64_t frames = 0;           // frames returned by next()
  uint64_t errors = 0;           // errors returned by next()
  uint64_t outside_bytes = 0;    // bytes skipped outside frames (counted as they are seen)
  uint64_t discarded_bytes = 0;  // payload bytes of broken, truncated and oversize frames
};

class MllpDecoder {
 public:
  explicit MllpDecoder(MllpDecoderOptions options = {});

  MllpDecoder(const MllpDecoder&) = delete;
  MllpDecoder& operator=(const MllpDecoder&) = delete;

  // Hands the decoder the next bytes of the stream (an empty view is allowed). Does no
  // decoding itself: next() does, so that a frame can be returned as a view of these bytes.
  // Invalidates every frame() view from earlier reads.
  // REQUIRES: next() has returned kNeedMore since the last feed() (every event drained),
  //           and finish() has not been called.
  // REQUIRES: `bytes` stays valid until the next feed() or finish() (see "Buffer lifetime").
  void feed(std::string_view bytes);

  // Marks the end of the stream (connection closed). The next calls to next() report what was
  // left open: a truncated frame, a run of bytes outside frames, or a last frame whose end
  // block had no CR (delivered after its error). Invalidates earlier frame() views.
  // REQUIRES: every event drained, as for feed(); finish() not called before.
  void finish();

  // Decodes on from where it stopped and returns the next event: kFrame (read frame()),
  // kError (read error()), or kNeedMore once the bytes fed so far hold no further event.
  // After kNeedMore, calling next() again returns kNeedMore until more bytes are fed.
  MllpEvent next();

  // The payload of the frame just returned; see "Buffer lifetime" for how long it is valid.
  // REQUIRES: the last next() returned kFrame.
  std::string_view frame() const { return frame_; }
  // Stream offset of that frame's start block.
  uint64_t frame_offset() const { return frame_offset_; }
  // The same payload as an owned string: moved out of the decoder's buffer when the frame
  // spanned reads, copied otherwise. Afterwards frame() is empty.
  // REQUIRES: the last next() returned kFrame.
  std::string take_frame();

  // The error just returned. REQUIRES: the last next() returned kError.
  const MllpError& error() const { return error_; }

  const MllpStats& stats() const { return stats_; }
  // Bytes of an unfinished frame held in the decoder's own buffer (never more than
  // max_frame_bytes), for memory accounting and tests.
  size_t buffered_bytes() const { return buffer_open_ ? buffer_.size() : 0; }
  // True iff the decoder is inside a frame (one is open or being skipped).
  bool in_frame() const { return state_ != State::kBetween; }

 private:
  enum class State : uint8_t {
    kBetween,   // outside any frame
    kInFrame,   // after a start block, collecting payload
    kAfterEnd,  // after an end block, expecting CR
    kSkipping,  // inside an oversize frame, skipping to its end
  };

  // Moves the unfinished frame's bytes from the current read into buffer_, so that the read
  // can be released. Called by feed() and finish().
  void carry_open_frame();
  void start_frame(size_t start_block_index);
  // Sets frame_ to the payload ending at frame_end_ and closes the frame.
  void complete_frame();
  MllpEvent report(MllpErrorKind kind, uint64_t offset, uint64_t length, std::string text);
  // Returns the pending run of outside bytes as an error, if there is one.
  bool flush_outside(MllpEvent* event);
  MllpEvent end_of_stream();
  uint64_t stream_offset(size_t index) const { return input_offset_ + index; }

  MllpDecoderOptions options_;
  State state_ = State::kBetween;

  // The current read, borrowed from the caller, and how far next() has got in it.
  std::string_view input_;
  size_t pos_ = 0;
  uint64_t input_offset_ = 0;  // stream offset of input_[0]
  bool finishing_ = false;     // finish() called
  bool finished_ = false;      // end-of-stream events reported

  // The open frame. Its payload is buffer_ (when buffer_open_: bytes from earlier reads)
  // followed by input_[frame_begin_, frame_end_).
  uint64_t frame_start_ = 0;   // stream offset of its start block
  uint64_t frame_size_ = 0;    // payload bytes so far, buffered or not
  size_t frame_begin_ = 0;
  size_t frame_end_ = 0;
  std::string buffer_;
  bool buffer_open_ = false;   // buffer_ holds the start of the open frame
  bool skipped_end_ = false;   // kAfterEnd reached from kSkipping: CR ends a skipped frame

  // The run of bytes outside frames not yet reported.
  uint64_t outside_start_ = 0;
  uint64_t outside_length_ = 0;
  bool outside_whitespace_ = true;

  // The last event's data.
  std::string_view frame_;
  uint64_t frame_offset_ = 0;
  bool frame_in_buffer_ = false;
  bool frame_pending_ = false;  // a frame to return after the error just returned
  MllpError error_;

  MllpStats stats_;
};

}  // namespace midhurst::hl7v2
