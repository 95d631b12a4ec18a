#include "hl7v2/ack.h"

#include <cstdio>
#include <ctime>
#include <vector>

#include "hl7v2/charset.h"
#include "hl7v2/escape.h"

namespace midhurst::hl7v2 {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// A field "is valued" unless it is empty, blank or the HL7 null "" (chapter 2: "" means
// "delete the stored value", not a value).
bool is_valued(std::string_view raw) {
  raw = trim(raw);
  return !raw.empty() && raw != "\"\"";
}

// The whole MSH-n as it stands in the bytes (all repetitions), "" when absent.
std::string_view msh_raw(const Message& m, size_t n) {
  std::optional<Segment> msh = m.find("MSH");
  return msh ? msh->field(n).raw() : std::string_view();
}

// An HL7 version id ("2.3.1") as numbers; known == false when it is not of that form.
struct Version {
  bool known = false;
  int major = 0, minor = 0, patch = 0;
  bool before(int ma, int mi, int pa = 0) const {
    if (major != ma) return major < ma;
    if (minor != mi) return minor < mi;
    return patch < pa;
  }
};

Version parse_version(std::string_view s) {
  Version v;
  int parts[3] = {0, 0, 0};
  size_t count = 0;
  size_t i = 0;
  s = trim(s);
  while (count < 3) {
    size_t start = i;
    int n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 4) n = n * 10 + (s[i++] - '0');
    if (i == start) return v;
    parts[count++] = n;
    if (i == s.size()) break;
    if (s[i] != '.') return v;
    ++i;
  }
  if (i != s.size() || count < 2) return v;
  v.known = true;
  v.major = parts[0];
  v.minor = parts[1];
  v.patch = parts[2];
  return v;
}

AckCode accept_code(AckOutcome outcome) {
  switch (outcome) {
    case AckOutcome::kAccepted: return AckCode::kCA;
    case AckOutcome::kError: return AckCode::kCE;
    case AckOutcome::kRejected: return AckCode::kCR;
  }
  return AckCode::kCR;
}

AckCode application_code(AckOutcome outcome) {
  switch (outcome) {
    case AckOutcome::kAccepted: return AckCode::kAA;
    case AckOutcome::kError: return AckCode::kAE;
    case AckOutcome::kRejected: return AckCode::kAR;
  }
  return AckCode::kAR;
}

// Table 0155 applied to one outcome.
bool condition_holds(AckCondition condition, AckOutcome outcome) {
  switch (condition) {
    case AckCondition::kAlways: return true;
    case AckCondition::kNever: return false;
    case AckCondition::kErrorOnly: return outcome != AckOutcome::kAccepted;
    case AckCondition::kSuccessOnly: return outcome == AckOutcome::kAccepted;
  }
  return true;
}

// Writes values into the ACK being built, remembering the first failure so that the
// building code reads as a plain list of fields.
class Writer {
 public:
  explicit Writer(Message& m) : m_(m) {}

  // `utf8` as text: Message::set converts it to the message's charset (MSH-18 must be set
  // first) and escapes it. Empty values are skipped so no trailing empty fields appear.
  void text(const std::string& path, std::string_view utf8) {
    if (utf8.empty() || !error_.empty()) return;
    note(path, m_.set(path, utf8));
  }

  // `raw`, already escaped with this message's delimiters, written as it is.
  void encoded(const std::string& path, std::string_view raw) {
    if (raw.empty() || !error_.empty()) return;
    auto p = Path::parse(path);
    if (!p) {
      error_ = p.error();
      return;
    }
    note(path, m_.set_encoded(*p, raw));
  }

  const std::string& error() const { return error_; }

 private:
  void note(const std::string& path, const Status<std::string>& s) {
    if (!s.ok() && error_.empty()) error_ = "cannot set " + path + ": " + s.error();
  }

  Message& m_;
  std::string error_;
};

std::string number(uint32_t n) { return n ? std::to_string(n) : std::string(); }

// One ERR segment (occurrence `k`) for `issue`: v2.5 §2.15.5 (ERR) with the ERL data type
// (chapter 2A). v2.3/v2.4 ERR-1 is ELD (v2.3 §2.24.3.1): <segment ID> ^ <sequence> ^
// <field position> ^ <code identifying error (CE)>, the CE written with sub-component
// separators since it sits inside a component. "Sequence" in both is the occurrence of
// that segment id (1 for the first PID), not the segment's position in the message.
void write_err(Writer& w, size_t k, const Issue& issue, bool with_err1) {
  const std::string seg = "ERR[" + std::to_string(k) + "]-";
  const Location& at = issue.where;
  // A location without a segment id (bytes that are not a segment at all) names nothing a
  // receiver could look up, so ERR-1/ERR-2 stay empty and ERR-8 says what was there.
  const bool located = at.segment_index != 0 && !at.segment_id.empty();
  const std::string code = std::to_string(static_cast<int>(issue.code));
  const char* code_text = error_code_text(issue.code);
  if (with_err1) {
    if (located) {
      w.text(seg + "1.1", at.segment_id);
      w.text(seg + "1.2", number(at.segment_occurrence));
      w.text(seg + "1.3", number(at.field));
    }
    w.text(seg + "1.4.1", code);
    w.text(seg + "1.4.2", code_text);
    w.text(seg + "1.4.3", "HL70357");
  }
  if (located) {
    w.text(seg + "2.1", at.segment_id);
    w.text(seg + "2.2", number(at.segment_occurrence));
    w.text(seg + "2.3", number(at.field));
    w.text(seg + "2.4", number(at.repetition));
    w.text(seg + "2.5", number(at.component));
    w.text(seg + "2.6", number(at.subcomponent));
  }
  w.text(seg + "3.1", code);
  w.text(seg + "3.2", code_text);
  w.text(seg + "3.3", "HL70357");
  w.text(seg + "4", std::string(1, static_cast<char>(issue.severity)));
  w.text(seg + "8", issue.why);
}

// Printable ASCII only, at most kMaxSalvagedField bytes (see SalvagedHeader).
std::string sanitize(std::string_view raw) {
  std::string out;
  for (char c : raw.substr(0, SalvagedHeader::kMaxSalvagedField)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7F ? c : '?');
  }
  return out;
}

bool usable_delimiter(char c) {
  const auto u = static_cast<unsigned char>(c);
  const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  return u > 0x20 && u < 0x7F && !alnum;
}

std::vector<std::string_view> split(std::string_view s, char delim) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(delim, start);
    if (end == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

std::string_view to_string(AckCode code) {
  switch (code) {
    case AckCode::kAA: return "AA";
    case AckCode::kAE: return "AE";
    case AckCode::kAR: return "AR";
    case AckCode::kCA: return "CA";
    case AckCode::kCE: return "CE";
    case AckCode::kCR: return "CR";
  }
  return "AR";
}

AckOutcome outcome_of(const Issues& issues) {
  bool error = false;
  for (const Issue& i : issues) {
    if (i.severity != Severity::kError) continue;
    error = true;
    switch (i.code) {
      case ErrorCode::kUnsupportedMessageType:
      case ErrorCode::kUnsupportedEventCode:
      case ErrorCode::kUnsupportedProcessingId:
      case ErrorCode::kUnsupportedVersionId:
      case ErrorCode::kApplicationInternalError:
        return AckOutcome::kRejected;
      default:
        break;
    }
  }
  return error ? AckOutcome::kError : AckOutcome::kAccepted;
}

AckMode ack_mode(const Message& original) {
  return is_valued(msh_raw(original, 15)) || is_valued(msh_raw(original, 16)) ? AckMode::kEnhanced
                                                                              : AckMode::kOriginal;
}

AckCondition ack_condition(std::string_view value) {
  value = trim(value);
  if (iequals(value, "NE")) return AckCondition::kNever;
  if (iequals(value, "ER")) return AckCondition::kErrorOnly;
  if (iequals(value, "SU")) return AckCondition::kSuccessOnly;
  return AckCondition::kAlways;  // AL, and (by decision, see ack.h) empty or unknown
}

std::optional<AckCode> accept_ack_due(const Message& original, AckOutcome outcome) {
  if (ack_mode(original) == AckMode::kOriginal) return std::nullopt;
  if (!condition_holds(ack_condition(original.get("MSH-15").raw()), outcome)) return std::nullopt;
  return accept_code(outcome);
}

std::optional<AckCode> application_ack_due(const Message& original, AckOutcome outcome) {
  if (ack_mode(original) == AckMode::kEnhanced &&
      !condition_holds(ack_condition(original.get("MSH-16").raw()), outcome))
    return std::nullopt;
  return application_code(outcome);
}

std::optional<AckCode> ack_on_commit(const Message& original, AckOutcome outcome) {
  return ack_mode(original) == AckMode::kOriginal ? application_ack_due(original, outcome)
                                                  : accept_ack_due(original, outcome);
}

Result<Message, std::string> build_ack(const Message& original, const AckRequest& request) {
  Message ack = Message::create(original.delimiters());
  Writer w(ack);
  const Version version = parse_version(original.get("MSH-12.1").raw());

  // MSH-18 first: Writer::text converts to the charset it names.
  w.encoded("MSH-18", msh_raw(original, 18));
  // The reply goes back where the message came from: swap sender and receiver.
  w.encoded("MSH-3", msh_raw(original, 5));
  w.encoded("MSH-4", msh_raw(original, 6));
  w.encoded("MSH-5", msh_raw(original, 3));
  w.encoded("MSH-6", msh_raw(original, 4));
  w.text("MSH-7", request.timestamp);
  // MSH-9: ACK^<trigger>^ACK. The third component (message structure) exists from v2.3.1
  // (MSG data type); earlier versions have only type^trigger.
  w.encoded("MSH-9.1", "ACK");
  w.encoded("MSH-9.2", original.get("MSH-9.2").raw());
  if (!version.known || !version.before(2, 3, 1)) w.encoded("MSH-9.3", "ACK");
  w.text("MSH-10", request.control_id);
  w.encoded("MSH-11", msh_raw(original, 11));
  w.encoded("MSH-12", msh_raw(original, 12));

  w.encoded("MSA-1", to_string(request.code));
  w.encoded("MSA-2", msh_raw(original, 10));
  w.text("MSA-3", request.text);

  // ERR-1 (ELD) is the only ERR field up to v2.4; from v2.5 it is kept for backward
  // compatibility only, replaced by ERR-2..ERR-12. Unknown versions get both.
  const bool with_err1 = !version.known || version.before(2, 5);
  for (size_t i = 0; i < request.issues.size(); ++i) write_err(w, i + 1, request.issues[i], with_err1);

  if (!w.error().empty()) return err(w.error());
  return ack;
}

namespace {

bool printable_ascii(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) return false;
  return true;
}

}  // namespace

Result<std::string, std::string> build_ack_text(const Message& original, const AckRequest& request) {
  const Delimiters& d = original.delimiters();
  const std::string_view msh18 = msh_raw(original, 18);
  // The charset the ACK's MSH-18 names (its first repetition's first component).
  const std::string_view charset_name = msh18.substr(0, msh18.find_first_of(std::string{d.repetition, d.component}));
  const bool usual = request.issues.empty() && printable_ascii(request.timestamp) &&
                     printable_ascii(request.control_id) && printable_ascii(request.text) &&
                     charset_from_msh18(charset_name).kind != CharsetKind::kUnsupported;
  if (!usual) {
    auto ack = build_ack(original, request);
    if (!ack.ok()) return err(ack.error());
    return ack->encode();
  }
  // ASCII text reads the same in every supported charset, so Message::set's conversion is a
  // copy and only its escaping remains. Empty values are left out, as Writer does.
  const Version version = parse_version(original.get("MSH-12.1").raw());
  std::string out;
  out.reserve(160 + msh18.size() + request.text.size());
  out += "MSH";
  out.push_back(d.field);
  out += d.encoding_characters();
  const std::string_view trigger = original.get("MSH-9.2").raw();
  const bool with_structure = !version.known || !version.before(2, 3, 1);
  // MSH-3 .. MSH-18; the last valued one ends the segment.
  std::string_view raw[19];
  raw[3] = msh_raw(original, 5);
  raw[4] = msh_raw(original, 6);
  raw[5] = msh_raw(original, 3);
  raw[6] = msh_raw(original, 4);
  raw[11] = msh_raw(original, 11);
  raw[12] = msh_raw(original, 12);
  raw[18] = msh18;
  size_t last = 9;  // MSH-9 always holds ACK
  if (!request.control_id.empty()) last = 10;
  for (size_t n : {11, 12, 18})
    if (!raw[n].empty()) last = n;
  for (size_t n = 3; n <= last; ++n) {
    out.push_back(d.field);
    if (n == 7) {
      escape(request.timestamp, d, out);
    } else if (n == 9) {
      out += "ACK";
      if (!trigger.empty() || with_structure) {
        out.push_back(d.component);
        out += trigger;
      }
      if (with_structure) {
        out.push_back(d.component);
        out += "ACK";
      }
    } else if (n == 10) {
      escape(request.control_id, d, out);
    } else {
      out += raw[n];
    }
  }
  out.push_back('\r');
  out += "MSA";
  out.push_back(d.field);
  out += to_string(request.code);
  const std::string_view control_id = msh_raw(original, 10);
  if (!control_id.empty() || !request.text.empty()) {
    out.push_back(d.field);
    out += control_id;
  }
  if (!request.text.empty()) {
    out.push_back(d.field);
    escape(request.text, d, out);
  }
  out.push_back('\r');
  return out;
}

SalvagedHeader salvage_header(std::string_view bytes) {
  SalvagedHeader h;
  const size_t at = bytes.find("MSH");
  if (at == std::string_view::npos) return h;
  h.msh_found = true;
  std::string_view line = bytes.substr(at);
  line = line.substr(0, line.find_first_of("\r\n"));
  if (line.size() < 4 || !usable_delimiter(line[3])) return h;
  const char fs = line[3];
  const std::vector<std::string_view> parts = split(line, fs);  // parts[n-1] is MSH-n, n >= 2

  // MSH-2: four distinct delimiters (a fifth, the v2.7 truncation character, is allowed),
  // none of them the field separator.
  const std::string_view enc = parts.size() > 1 ? parts[1] : std::string_view();
  bool good = enc.size() == 4 || enc.size() == 5;
  for (size_t i = 0; good && i < enc.size(); ++i) {
    good = usable_delimiter(enc[i]);
    for (size_t j = 0; good && j < i; ++j) good = enc[i] != enc[j];
  }
  if (good) {
    h.delimiters_read = true;
    h.delimiters.field = fs;
    h.delimiters.component = enc[0];
    h.delimiters.repetition = enc[1];
    h.delimiters.escape = enc[2];
    h.delimiters.subcomponent = enc[3];
    h.delimiters.truncation = enc.size() == 5 ? enc[4] : '\0';
  }
  auto field = [&](size_t n) { return n - 1 < parts.size() ? sanitize(parts[n - 1]) : std::string(); };
  h.sending_application = field(3);
  h.sending_facility = field(4);
  h.receiving_application = field(5);
  h.receiving_facility = field(6);
  h.message_type = field(9);
  h.control_id = field(10);
  h.processing_id = field(11);
  h.version = field(12);
  h.accept_ack_type = field(15);
  h.application_ack_type = field(16);
  return h;
}

Result<Message, std::string> build_salvage_ack(std::string_view bytes, const Issue& parse_error,
                                               std::string_view timestamp, std::string_view control_id) {
  const SalvagedHeader h = salvage_header(bytes);

  // Rebuild a minimal "original" holding what was salvaged, so that build_ack applies the
  // same rules (swap, MSH-9, ERR layout) as for a message that parsed.
  Message original = Message::create(h.delimiters);
  Writer w(original);
  auto put = [&](const std::string& path, std::string_view value) {
    // With the sender's delimiters the raw bytes are copied as they are; without them the
    // structure inside a field is unknown, so the bytes are kept as plain text.
    if (h.delimiters_read) w.encoded(path, value);
    else w.text(path, value);
  };
  put("MSH-3", h.sending_application);
  put("MSH-4", h.sending_facility);
  put("MSH-5", h.receiving_application);
  put("MSH-6", h.receiving_facility);
  if (h.delimiters_read) w.encoded("MSH-9", h.message_type);
  put("MSH-10", h.control_id);
  put("MSH-11", is_valued(h.processing_id) ? std::string_view(h.processing_id) : "P");
  std::string_view version = h.version;
  if (h.delimiters_read) version = version.substr(0, version.find(h.delimiters.component));
  w.encoded("MSH-12", parse_version(version).known ? version : kSalvageDefaultVersion);
  put("MSH-15", h.accept_ack_type);
  put("MSH-16", h.application_ack_type);
  if (!w.error().empty()) return err("salvaging the header: " + w.error());

  AckRequest request;
  request.code = ack_mode(original) == AckMode::kEnhanced ? AckCode::kCR : AckCode::kAR;
  request.timestamp = std::string(timestamp);
  request.control_id = std::string(control_id);
  request.text = parse_error.why;
  request.issues.push_back(parse_error);
  return build_ack(original, request);
}

std::string hl7_timestamp(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[80];  // room for any int values, which GCC's format check insists on
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d+0000", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return buf;
}

std::string hl7_timestamp_now() { return hl7_timestamp(std::chrono::system_clock::now()); }

}  // namespace midhurst::hl7v2
