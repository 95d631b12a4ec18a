#include "common/json_reader.h"

#include <algorithm>
#include <limits>

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

namespace midhurst {

const JsonMember* JsonNode::find_member(std::string_view key) const {
  for (const JsonMember& m : members)
    if (m.key == key) return &m;
  return nullptr;
}

const JsonNode* JsonNode::find(std::string_view key) const {
  const JsonMember* m = find_member(key);
  return m ? &m->value : nullptr;
}

const char* JsonNode::type_name() const {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "boolean";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
  }
  return "?";
}

LineIndex::LineIndex(std::string text) : text_(std::move(text)) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

TextPosition LineIndex::position(std::size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());
  std::size_t column = 1;
  for (std::size_t i = line_starts_[line - 1]; i < offset; ++i)
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;  // skip continuation bytes
  return {line, column};
}

namespace {

// A read-only stream over the text. RapidJSON copies streams whose StreamTraits allow it into
// locals while it scans a string or number, so the caller's stream lags behind during the
// handler call; this type keeps the default traits (no copy), so Tell() is exact in the handler.
class PositionStream {
 public:
  using Ch = char;
  explicit PositionStream(const char* s) : begin_(s), cur_(s) {}
  Ch Peek() const { return *cur_; }
  Ch Take() { return *cur_++; }
  std::size_t Tell() const { return static_cast<std::size_t>(cur_ - begin_); }
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  std::size_t PutEnd(Ch*) { return 0; }

 private:
  const char* begin_;
  const char* cur_;
};

// Builds the tree from SAX events. RapidJSON calls the handler after it has consumed a token, so
// the stream position is the token's end; a value starts at the first byte after the previous
// token that is not whitespace, ',' or ':'.
class Builder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Builder> {
 public:
  Builder(const std::string& text, const PositionStream& stream)
      : text_(text), stream_(stream) {}

  bool Null() { return scalar(JsonNode::Type::kNull); }
  bool Bool(bool b) {
    JsonNode n = start(JsonNode::Type::kBool);
    n.boolean = b;
    return add(std::move(n));
  }
  bool Int(int i) { return integer(i); }
  bool Uint(unsigned u) { return integer(u); }
  bool Int64(std::int64_t i) { return integer(i); }
  bool Uint64(std::uint64_t u) {
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return Double(static_cast<double>(u));
    return integer(static_cast<std::int64_t>(u));
  }
  bool Double(double d) {
    JsonNode n = start(JsonNode::Type::kNumber);
    n.number = d;
    return add(std::move(n));
  }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }
  bool String(const char* s, rapidjson::SizeType len, bool) {
    JsonNode n = start(JsonNode::Type::kString);
    n.string.assign(s, len);
    return add(std::move(n));
  }
  bool StartObject() { return open(JsonNode::Type::kObject); }
  bool Key(const char* s, rapidjson::SizeType len, bool) {
    Frame& f = stack_.back();
    f.key.assign(s, len);
    f.key_offset = value_start();
    last_end_ = stream_.Tell();
    if (f.node.find_member(f.key)) {
      duplicate_ = true;
      duplicate_offset_ = f.key_offset;
      duplicate_key_ = f.key;
      return false;
    }
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(JsonNode::Type::kArray); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  JsonNode root;
  bool duplicate_ = false;
  std::size_t duplicate_offset_ = 0;
  std::string duplicate_key_;

 private:
  struct Frame {
    JsonNode node;
    std::string key;
    std::size_t key_offset = 0;
  };

  std::size_t value_start() const {
    std::size_t i = last_end_;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' ||
                                text_[i] == '\r' || text_[i] == ',' || text_[i] == ':'))
      ++i;
    return i;
  }
  JsonNode start(JsonNode::Type t) {
    JsonNode n;
    n.type = t;
    n.offset = value_start();
    last_end_ = stream_.Tell();
    return n;
  }
  bool scalar(JsonNode::Type t) { return add(start(t)); }
  bool integer(std::int64_t i) {
    JsonNode n = start(JsonNode::Type::kNumber);
    n.is_integer = true;
    n.integer = i;
    n.number = static_cast<double>(i);
    return add(std::move(n));
  }
  bool open(JsonNode::Type t) {
    stack_.push_back(Frame{start(t), {}, 0});
    return true;
  }
  bool close() {
    last_end_ = stream_.Tell();
    JsonNode n = std::move(stack_.back().node);
    stack_.pop_back();
    return add(std::move(n));
  }
  bool add(JsonNode n) {
    if (stack_.empty()) {
      root = std::move(n);
      return true;
    }
    Frame& f = stack_.back();
    if (f.node.type == JsonNode::Type::kArray) {
      f.node.items.push_back(std::move(n));
    } else {
      f.node.members.push_back(JsonMember{std::move(f.key), f.key_offset, std::move(n)});
      f.key.clear();
    }
    return true;
  }

  const std::string& text_;
  const PositionStream& stream_;
  std::vector<Frame> stack_;
  std::size_t last_end_ = 0;
};

}  // namespace

Result<JsonDocument, JsonSyntaxError> parse_json_with_positions(std::string_view text) {
  JsonDocument doc;
  std::string owned(text);  // RapidJSON's StringStream needs a terminating NUL
  doc.lines = LineIndex(owned);
  PositionStream stream(owned.c_str());
  Builder builder(owned, stream);
  rapidjson::Reader reader;
  rapidjson::ParseResult r =
      reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag>(stream, builder);
  if (!r) {
    JsonSyntaxError e;
    if (builder.duplicate_) {
      e.offset = builder.duplicate_offset_;
      e.message = "duplicate key '" + builder.duplicate_key_ + "' in this object";
      e.duplicate_key = builder.duplicate_key_;
    } else {
      e.offset = r.Offset();
      e.message = rapidjson::GetParseError_En(r.Code());
    }
    e.position = doc.lines.position(e.offset);
    return err(std::move(e));
  }
  doc.root = std::move(builder.root);
  return doc;
}

}  // namespace midhurst
