// libFuzzer target for the MLLP decoder (hl7v2/mllp.h).
//
// Input layout: byte 0 picks max_frame_bytes (small limits reach the oversize paths), bytes
// 1..4 are read sizes used in turn, and the rest is the stream. Inputs of 5 bytes or fewer
// are a stream read whole. tests/fuzz/run.sh writes seeds in this layout.
//
// Invariants (a broken one aborts, which libFuzzer reports as a crash):
//  1. The stream fed in reads of the chosen sizes gives exactly the events of the stream fed
//     whole: frames, errors, offsets and lengths.
//  2. Every frame can be framed again (no start or end block in it) and is within the limit.
//  3. Framing the decoded frames again and decoding that gives the same frames and no errors.
//  4. The statistics match the events, and payload + outside + discarded bytes never exceed
//     the stream's length.
// Each read is a fresh heap copy freed right after the next feed(), and frame views are read
// only after the read's events are drained, so AddressSanitizer checks the buffer-lifetime
// contract too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "hl7v2/mllp.h"

namespace {

using midhurst::hl7v2::MllpDecoder;
using midhurst::hl7v2::MllpDecoderOptions;
using midhurst::hl7v2::MllpErrorKind;
using midhurst::hl7v2::MllpEvent;
using midhurst::hl7v2::MllpStats;

struct Record {
  bool is_frame = false;
  std::string payload;
  MllpErrorKind kind = MllpErrorKind::kBytesOutsideFrame;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const Record&) const = default;
};

// Drains the decoder. Frame views are kept as views until kNeedMore and only then copied,
// since the decoder promises they all stay valid until the next feed().
void drain(MllpDecoder& d, std::vector<Record>& out) {
  struct Pending {
    size_t index;
    std::string_view view;
  };
  std::vector<Pending> views;
  for (MllpEvent e; (e = d.next()) != MllpEvent::kNeedMore;) {
    Record r;
    if (e == MllpEvent::kFrame) {
      r.is_frame = true;
      r.offset = d.frame_offset();
      views.push_back({out.size(), d.frame()});
    } else {
      FUZZ_CHECK(e == MllpEvent::kError);
      FUZZ_CHECK(!d.error().text.empty());
      r.kind = d.error().kind;
      r.offset = d.error().offset;
      r.length = d.error().length;
    }
    out.push_back(std::move(r));
  }
  FUZZ_CHECK(d.next() == MllpEvent::kNeedMore);  // stays drained
  for (const Pending& p : views) out[p.index].payload.assign(p.view);
}

// Decodes `stream` in reads whose sizes cycle through `sizes` (whole when empty).
std::vector<Record> decode(std::string_view stream, const std::vector<size_t>& sizes, MllpDecoderOptions options,
                           MllpStats* stats) {
  MllpDecoder d(options);
  std::vector<Record> out;
  // The read the decoder borrows, always on the heap (no small-string buffer), freed right
  // after the next feed().
  std::unique_ptr<char[]> current;
  size_t pos = 0, turn = 0;
  do {
    size_t n = sizes.empty() ? stream.size() : sizes[turn++ % sizes.size()];
    n = std::min(n, stream.size() - pos);
    std::unique_ptr<char[]> next(new char[n]);
    if (n) std::memcpy(next.get(), stream.data() + pos, n);
    d.feed(std::string_view(next.get(), n));
    current = std::move(next);
    pos += n;
    drain(d, out);
    FUZZ_CHECK(d.buffered_bytes() <= options.max_frame_bytes);
  } while (pos < stream.size());
  d.finish();
  current.reset();  // nothing may be read from the last read after finish()
  drain(d, out);
  FUZZ_CHECK(!d.in_frame());
  *stats = d.stats();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const size_t kLimits[] = {size_t{1} << 20, 0, 1, 3, 16, 100, 1000, 4096};
  MllpDecoderOptions options;
  std::vector<size_t> sizes;
  std::string_view stream(reinterpret_cast<const char*>(data), size);
  if (size > 5) {
    options.max_frame_bytes = kLimits[data[0] % (sizeof kLimits / sizeof kLimits[0])];
    bool any = false;
    for (size_t i = 1; i < 5; ++i) {
      sizes.push_back(data[i]);  // 0 is allowed: an empty read
      any |= data[i] != 0;
    }
    if (!any) sizes.clear();
    stream.remove_prefix(5);
  }

  MllpStats chunked_stats, whole_stats;
  const std::vector<Record> chunked = decode(stream, sizes, options, &chunked_stats);
  const std::vector<Record> whole = decode(stream, {}, options, &whole_stats);
  FUZZ_CHECK(chunked == whole);  // 1

  uint64_t frames = 0, errors = 0, payload_bytes = 0;
  std::string reframed;
  std::vector<Record> expected;
  for (const Record& r : whole) {
    FUZZ_CHECK(r.offset <= stream.size());
    if (!r.is_frame) {
      ++errors;
      continue;
    }
    ++frames;
    payload_bytes += r.payload.size();
    FUZZ_CHECK(midhurst::hl7v2::mllp_can_frame(r.payload));  // 2
    FUZZ_CHECK(r.payload.size() <= options.max_frame_bytes);
    FUZZ_CHECK(stream.substr(r.offset + 1, r.payload.size()) == r.payload);
    Record e = r;
    e.offset = reframed.size();
    expected.push_back(std::move(e));
    midhurst::hl7v2::mllp_frame_append(r.payload, reframed);
  }
  MllpStats again_stats;
  FUZZ_CHECK(decode(reframed, sizes, options, &again_stats) == expected);  // 3
  FUZZ_CHECK(again_stats.errors == 0);

  for (const MllpStats* s : {&chunked_stats, &whole_stats}) {  // 4
    FUZZ_CHECK(s->bytes_fed == stream.size());
    FUZZ_CHECK(s->frames == frames);
    FUZZ_CHECK(s->errors == errors);
    FUZZ_CHECK(payload_bytes + s->outside_bytes + s->discarded_bytes <= stream.size());
  }
  FUZZ_CHECK(chunked_stats.outside_bytes == whole_stats.outside_bytes);
  FUZZ_CHECK(chunked_stats.discarded_bytes == whole_stats.discarded_bytes);
  return 0;
}
