#include "hl7v2/batch.h"

#include <cstdio>
#include <string>
#include <unordered_map>
#include <utility>

namespace midhurst::hl7v2 {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool is_terminator(char c) { return c == '\r' || c == '\n'; }

bool is_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_header_id(std::string_view id) { return id == "MSH" || id == "BHS" || id == "FHS"; }

// The n-th (0-based) part of `s` split by `delim`, or "" when there are fewer parts.
std::string_view nth_part(std::string_view s, char delim, size_t n) {
  size_t start = 0;
  for (size_t part = 0;; ++part) {
    const size_t end = s.find(delim, start);
    if (part == n) return s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (end == std::string_view::npos) return {};
    start = end + 1;
  }
}

std::string printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", u);
    return buf;
  }
  return std::string(1, c);
}

// Reads the delimiters of an FHS or BHS from its fields 1 and 2, with the same rules as MSH
// (Message::parse). A bare "BHS" with no fields keeps the defaults: there is nothing to read
// with them. On a problem returns false with the field (1 or 2) and the reason.
bool read_header_delimiters(std::string_view raw, Delimiters* d, uint32_t* field, std::string* why) {
  *d = Delimiters{};
  if (raw.size() == 3) return true;
  const std::string id(raw.substr(0, 3));
  const char fs = raw[3];
  if (is_alnum(fs) || fs == ' ' || static_cast<unsigned char>(fs) >= 0x80) {
    *field = 1;
    *why = id + "-1 must be a field separator character, found '" + printable(fs) + "'";
    return false;
  }
  std::string_view enc = raw.substr(4);
  enc = enc.substr(0, enc.find(fs));
  if (enc.size() < 4 || enc.size() > 5) {
    *field = 2;
    *why = id + "-2 must hold 4 encoding characters (component, repetition, escape, sub-component; 5 "
                "from v2.7 with truncation), found " + std::to_string(enc.size()) + ": \"" + std::string(enc) + "\"";
    return false;
  }
  for (size_t i = 0; i < enc.size(); ++i) {
    const char c = enc[i];
    if (is_alnum(c) || c == ' ' || static_cast<unsigned char>(c) >= 0x80) {
      *field = 2;
      *why = id + "-2 character " + std::to_string(i + 1) + " ('" + printable(c) + "') cannot be a delimiter";
      return false;
    }
    for (size_t j = 0; j < i; ++j) {
      if (enc[j] == c) {
        *field = 2;
        *why = id + "-2 uses '" + printable(c) + "' twice; every delimiter must differ";
        return false;
      }
    }
  }
  d->field = fs;
  d->component = enc[0];
  d->repetition = enc[1];
  d->escape = enc[2];
  d->subcomponent = enc[3];
  d->truncation = enc.size() == 5 ? enc[4] : '\0';
  return true;
}

enum class Kind { kMsh, kFhs, kBhs, kBts, kFts, kOther };

// Classifies a segment by its first three bytes. A line that starts with "MSH" always opens a
// message, even when the next byte is not a valid separator, so that Message::parse() can say
// precisely what is wrong with it rather than the splitter calling it an orphan segment.
Kind kind_of(std::string_view raw) {
  const std::string_view id = raw.substr(0, 3);
  if (id == "MSH") return Kind::kMsh;
  if (id == "FHS") return Kind::kFhs;
  if (id == "BHS") return Kind::kBhs;
  if (id == "BTS") return Kind::kBts;
  if (id == "FTS") return Kind::kFts;
  return Kind::kOther;
}

// The state machine of split_batch(). One pass over the segments; every decision is made on
// the current segment and a few flags, so the cost is linear in the file size.
class Splitter {
 public:
  Splitter(std::string_view file, BatchFile* out) : file_(file), out_(out) {}

  void run() {
    const std::string_view body = skip_bom(file_);
    size_t pos = file_.size() - body.size();
    uint32_t line = 1;
    while (pos < file_.size()) {
      size_t end = pos;
      while (end < file_.size() && !is_terminator(file_[end])) ++end;
      if (end > pos && !segment(pos, end, line)) return;
      // \r\n is one terminator; any other \r or \n is one too.
      if (end < file_.size() && file_[end] == '\r' && end + 1 < file_.size() && file_[end + 1] == '\n') ++end;
      pos = end + 1;
      ++line;
    }
    if (segment_index_ == 0) {
      fail_at_file("the file holds no segment: it must hold at least one message starting with MSH");
      return;
    }
    close_message();
    close_batch();
  }

 private:
  // Handles one non-empty segment [begin, end). Returns false iff splitting must stop.
  bool segment(size_t begin, size_t end, uint32_t line) {
    const std::string_view raw = file_.substr(begin, end - begin);
    ++segment_index_;
    const uint32_t occurrence = ++occurrences_[raw.substr(0, 3)];
    Current cur{raw, begin, line, occurrence};
    const Kind kind = kind_of(raw);

    if (out_->trailer && kind != Kind::kFts)
      return fail(cur, "a " + std::string(cur.raw.substr(0, 3)) + " segment after the FTS at segment " +
                           std::to_string(out_->trailer->segment_index) + ": the FTS must be the last segment of the file");

    switch (kind) {
      case Kind::kMsh:
        close_message();
        if (!batch_open_) open_batch(std::nullopt);
        open_ = true;
        message_ = MessageSpan{};
        message_.bytes = raw;
        message_.segment_index = segment_index_;
        message_.segment_count = 1;
        message_.line = line;
        message_.byte_offset = begin;
        break;

      case Kind::kOther:
        if (!open_) return fail(cur, orphan_reason(cur));
        // Extend the open message to the end of this segment.
        message_.bytes = file_.substr(message_.byte_offset, end - message_.byte_offset);
        ++message_.segment_count;
        break;

      case Kind::kFhs:
        if (segment_index_ != 1)
          return fail(cur, out_->header ? "a second FHS; a file has one file header, at segment " +
                                              std::to_string(out_->header->segment_index)
                                        : std::string("FHS must be the first segment of the file"));
        out_->header = envelope(cur);
        file_delimiters_ = out_->header->delimiters;
        break;

      case Kind::kBhs: {
        if (explicit_batch_)
          return fail(cur, "a BHS opens a batch while the batch opened by the BHS at segment " +
                               std::to_string(current_batch().header->segment_index) +
                               " is still open: a BTS must close it first");
        close_message();
        // Messages before this BHS that no BHS opened form an implicit batch; it ends here.
        close_batch();
        EnvelopeSegment header = envelope(cur);
        batch_delimiters_ = header.delimiters;
        open_batch(std::move(header));
        explicit_batch_ = true;
        break;
      }

      case Kind::kBts: {
        close_message();
        if (!batch_open_) {
          if (last_bts_index_ != 0 && last_bts_index_ + 1 == segment_index_)
            return fail(cur, "a second BTS: the batch was already closed by the BTS at segment " +
                                 std::to_string(last_bts_index_));
          // A BTS with nothing to close (at the start, or right after the FHS) closes an
          // empty batch whose BHS is missing.
          open_batch(std::nullopt);
        }
        Batch& batch = current_batch();
        batch.trailer = envelope(cur, explicit_batch_ ? batch_delimiters_ : file_delimiters_);
        check_count(*batch.trailer, batch.messages.size(), "BTS-1 (batch message count)", "message");
        last_bts_index_ = segment_index_;
        batch_open_ = false;
        explicit_batch_ = false;
        break;
      }

      case Kind::kFts:
        if (out_->trailer)
          return fail(cur, "a second FTS: the file already ended with the FTS at segment " +
                               std::to_string(out_->trailer->segment_index));
        close_message();
        close_batch();  // a batch with no BTS ends with the file
        out_->trailer = envelope(cur, file_delimiters_);
        check_count(*out_->trailer, out_->batches.size(), "FTS-1 (file batch count)", "batch");
        break;
    }
    previous_kind_ = kind;
    previous_index_ = segment_index_;
    return true;
  }

  struct Current {
    std::string_view raw;
    size_t byte_offset;
    uint32_t line;
    uint32_t occurrence;
  };

  // Why a segment that belongs to no message is refused, phrased for where it stands.
  std::string orphan_reason(const Current& cur) const {
    const std::string id(cur.raw.substr(0, 3));
    const std::string at = std::to_string(previous_index_);
    if (segment_index_ == 1)
      return "the file must start with MSH, BHS or FHS; found " + id + " (a segment before any MSH)";
    switch (previous_kind_) {
      case Kind::kFhs:
        return "the file header (FHS, segment " + at + ") must be followed by BHS or MSH; found " + id +
               " (a segment before any MSH)";
      case Kind::kBhs:
        return "the batch header (BHS, segment " + at + ") must be followed by MSH or BTS; found " + id +
               " (a segment before any MSH in the batch)";
      case Kind::kBts:
        return "after the BTS at segment " + at + " only MSH, BHS or FTS may follow; found " + id +
               " (a segment outside any message)";
      default:
        return "a " + id + " segment outside any message (no MSH before it)";
    }
  }

  EnvelopeSegment envelope(const Current& cur, const Delimiters& inherited = {}) {
    EnvelopeSegment e;
    e.raw = cur.raw;
    e.segment_index = segment_index_;
    e.line = cur.line;
    e.byte_offset = cur.byte_offset;
    e.delimiters = inherited;
    if (is_header_id(e.id())) {
      uint32_t field = 0;
      std::string why;
      if (!read_header_delimiters(cur.raw, &e.delimiters, &field, &why)) {
        // Not fatal: the envelope only frames the messages, which carry their own delimiters.
        Issue issue = make_issue(cur, ErrorCode::kDataType, std::move(why) + "; read with the default delimiters");
        issue.where.field = field;
        out_->issues.push_back(std::move(issue));
      }
    }
    return e;
  }

  // Checks a BTS-1 or FTS-1 count against what the file holds. An empty count is not checked.
  void check_count(const EnvelopeSegment& trailer, size_t actual, const char* what, const char* unit) {
    std::string_view value = trailer.component(1, 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.empty()) return;
    Issue issue;
    issue.severity = Severity::kError;
    issue.where = location(trailer);
    issue.where.field = 1;
    issue.where.byte_offset = static_cast<int64_t>(trailer.field(1).data() - file_.data());
    uint64_t declared = 0;
    for (char c : value) {
      if (c < '0' || c > '9' || declared > 1'000'000'000'000ull) {
        issue.code = ErrorCode::kDataType;
        issue.why = std::string(what) + " must be a whole number, found \"" + std::string(value) + "\"";
        out_->issues.push_back(std::move(issue));
        return;
      }
      declared = declared * 10 + static_cast<uint64_t>(c - '0');
    }
    if (declared == actual) return;
    // A count that disagrees means messages were lost or added on the way: the structure of
    // the file is not what its sender wrote, hence "segment sequence error".
    issue.code = ErrorCode::kSegmentSequence;
    issue.why = std::string(what) + " says " + std::to_string(declared) + " but the " +
                (trailer.id() == "BTS" ? "batch" : "file") + " holds " + std::to_string(actual) + " " + unit +
                (actual == 1 ? "" : (std::string_view(unit) == "batch" ? "es" : "s"));
    out_->issues.push_back(std::move(issue));
  }

  Location location(const EnvelopeSegment& e) const {
    Location where;
    where.segment_index = e.segment_index;
    where.segment_id = std::string(e.id());
    auto it = occurrences_.find(e.raw.substr(0, 3));
    where.segment_occurrence = it == occurrences_.end() ? 0 : it->second;
    where.byte_offset = static_cast<int64_t>(e.byte_offset);
    return where;
  }

  Issue make_issue(const Current& cur, ErrorCode code, std::string why) const {
    Issue issue;
    issue.severity = Severity::kError;
    issue.code = code;
    issue.where.segment_index = segment_index_;
    issue.where.segment_id = std::string(cur.raw.substr(0, 3));
    issue.where.segment_occurrence = cur.occurrence;
    issue.where.byte_offset = static_cast<int64_t>(cur.byte_offset);
    issue.why = std::move(why);
    return issue;
  }

  bool fail(const Current& cur, std::string why) {
    out_->issues.push_back(make_issue(cur, ErrorCode::kSegmentSequence, std::move(why)));
    out_->complete = false;
    open_ = false;  // the open message may have been cut short: drop it
    return false;
  }

  void fail_at_file(std::string why) {
    Issue issue;
    issue.severity = Severity::kError;
    issue.code = ErrorCode::kSegmentSequence;
    issue.why = std::move(why);
    out_->issues.push_back(std::move(issue));
    out_->complete = false;
  }

  Batch& current_batch() { return out_->batches.back(); }

  void open_batch(std::optional<EnvelopeSegment> header) {
    out_->batches.emplace_back();
    out_->batches.back().header = std::move(header);
    batch_open_ = true;
    explicit_batch_ = false;
  }

  void close_batch() {
    batch_open_ = false;
    explicit_batch_ = false;
  }

  void close_message() {
    if (!open_) return;
    current_batch().messages.push_back(message_);
    open_ = false;
  }

  const std::string_view file_;
  BatchFile* const out_;
  uint32_t segment_index_ = 0;
  // Occurrences of each segment id so far, for Location::segment_occurrence. Keys borrow
  // from file_.
  std::unordered_map<std::string_view, uint32_t> occurrences_;
  bool batch_open_ = false;      // the last batch still takes messages
  bool explicit_batch_ = false;  // ... and a BHS opened it
  uint32_t last_bts_index_ = 0;  // segment index of the last BTS, 0 if none
  Kind previous_kind_ = Kind::kOther;
  uint32_t previous_index_ = 0;
  Delimiters file_delimiters_;   // from the FHS, else the defaults
  Delimiters batch_delimiters_;  // from the open batch's BHS
  bool open_ = false;            // message_ is a message being read
  MessageSpan message_;
};

}  // namespace

std::string_view skip_bom(std::string_view bytes) {
  return bytes.substr(0, kBom.size()) == kBom ? bytes.substr(kBom.size()) : bytes;
}

std::string_view EnvelopeSegment::field(size_t n) const {
  if (n == 0) return {};
  const bool header = is_header_id(id());
  if (header && n == 1) return raw.size() > 3 ? raw.substr(3, 1) : std::string_view{};
  // Split by the field separator, the id being part 0. For a header, field 1 is the separator
  // itself, so field n is part n - 1.
  return nth_part(raw, delimiters.field, header ? n - 1 : n);
}

std::string_view EnvelopeSegment::component(size_t n, size_t c) const {
  if (c == 0) return {};
  const std::string_view f = field(n);
  if (is_header_id(id()) && n <= 2) return c == 1 ? f : std::string_view{};
  return nth_part(nth_part(f, delimiters.repetition, 0), delimiters.component, c - 1);
}

Location MessageSpan::to_file(Location where) const {
  if (where.segment_index == 0) {
    where.segment_index = segment_index;
    where.segment_id = "MSH";
    where.segment_occurrence = 1;
    where.byte_offset = static_cast<int64_t>(byte_offset);
    return where;
  }
  where.segment_index += segment_index - 1;
  if (where.byte_offset >= 0) where.byte_offset += static_cast<int64_t>(byte_offset);
  return where;
}

size_t BatchFile::message_count() const {
  size_t n = 0;
  for (const Batch& b : batches) n += b.messages.size();
  return n;
}

std::vector<MessageSpan> BatchFile::messages() const {
  std::vector<MessageSpan> out;
  out.reserve(message_count());
  for (const Batch& b : batches) out.insert(out.end(), b.messages.begin(), b.messages.end());
  return out;
}

BatchFile split_batch(std::string_view bytes) {
  BatchFile out;
  Splitter(bytes, &out).run();
  return out;
}

}  // namespace midhurst::hl7v2
