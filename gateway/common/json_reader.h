// A JSON reader that remembers where every value is: a small tree (JsonNode) in which each value,
// and each object key, carries the byte offset where it starts, and a line index that turns an
// offset into line and column. For configuration files (mapping profiles, ConceptMaps) and, later,
// FHIR request bodies, whose errors must say "file:line:column: reason".
//
// Why not RapidJSON's DOM: it keeps no positions. This reader drives RapidJSON's SAX Reader (the
// same tokenizer, with its error messages) and records the offset of each value's first byte.
//
// Strict JSON (RFC 8259): no comments, no trailing commas, UTF-8 checked. Beyond the RFC,
// duplicate keys in one object are an error, because "the last one wins" hides mistakes in
// hand-written files.
//
// Thread-safety: parse_json_with_positions is reentrant; a JsonDocument is an immutable value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace midhurst {

struct JsonMember;

struct JsonNode {
  enum class Type : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type = Type::kNull;
  std::size_t offset = 0;  // byte offset of the value's first character in the text
  bool boolean = false;
  bool is_integer = false;  // a number written without fraction or exponent that fits int64
  std::int64_t integer = 0;
  double number = 0;
  std::string string;
  std::vector<JsonNode> items;      // kArray
  std::vector<JsonMember> members;  // kObject, in document order

  bool is_string() const { return type == Type::kString; }
  bool is_object() const { return type == Type::kObject; }
  bool is_array() const { return type == Type::kArray; }
  // The member's value, or nullptr (also when this is not an object).
  const JsonNode* find(std::string_view key) const;
  const JsonMember* find_member(std::string_view key) const;
  // "string", "number", "object", ...
  const char* type_name() const;
};

struct JsonMember {
  std::string key;
  std::size_t key_offset = 0;  // offset of the key's opening quote
  JsonNode value;
};

// 1-based line and column; columns count characters (UTF-8 code points), not bytes.
struct TextPosition {
  std::size_t line = 1;
  std::size_t column = 1;
};

// Turns byte offsets into line/column for one text.
class LineIndex {
 public:
  LineIndex() = default;
  explicit LineIndex(std::string text);
  TextPosition position(std::size_t offset) const;

 private:
  std::string text_;
  std::vector<std::size_t> line_starts_;
};

struct JsonDocument {
  JsonNode root;
  LineIndex lines;
  TextPosition position(std::size_t offset) const { return lines.position(offset); }
};

struct JsonSyntaxError {
  std::size_t offset = 0;
  TextPosition position;
  std::string message;  // e.g. "Missing a comma or '}' after an object member."
  // Set iff the text is well-formed up to a key repeated in one object (offset: the repeat),
  // so that callers can phrase that error their own way.
  std::string duplicate_key;
};

// Parses `text`. On error: where (offset, line, column) and why.
Result<JsonDocument, JsonSyntaxError> parse_json_with_positions(std::string_view text);

}  // namespace midhurst
