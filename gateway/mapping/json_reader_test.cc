#include "common/json_reader.h"

#include <catch2/catch.hpp>

using midhurst::JsonNode;
using midhurst::parse_json_with_positions;

TEST_CASE("the position-tracking JSON reader records where each value and key starts", "[json]") {
  const std::string text = "{\n  \"a\": [1, \"x\"],\n  \"b\": {\"c\": true}\n}";
  auto doc = parse_json_with_positions(text);
  REQUIRE(doc.ok());
  const JsonNode& root = doc->root;
  REQUIRE(root.is_object());
  const JsonNode* a = root.find("a");
  REQUIRE(a);
  CHECK(doc->position(a->offset).line == 2);
  CHECK(doc->position(a->offset).column == 8);
  CHECK(doc->position(a->items[1].offset).column == 12);
  CHECK(a->items[0].is_integer);
  CHECK(a->items[0].integer == 1);
  const JsonNode* c = root.find("b")->find("c");
  REQUIRE(c);
  CHECK(c->boolean);
  CHECK(doc->position(c->offset).line == 3);
  CHECK(doc->position(c->offset).column == 14);
  CHECK(doc->position(root.find_member("b")->key_offset).column == 3);
}

TEST_CASE("the JSON reader reports syntax errors with line and column", "[json]") {
  auto doc = parse_json_with_positions("{\n  \"a\": 1\n  \"b\": 2\n}");
  REQUIRE(!doc.ok());
  CHECK(doc.error().position.line == 3);
  CHECK(doc.error().position.column == 3);
  CHECK(doc.error().message.find("comma") != std::string::npos);
}

TEST_CASE("the JSON reader refuses duplicate keys", "[json]") {
  auto doc = parse_json_with_positions("{\"a\": 1, \"a\": 2}");
  REQUIRE(!doc.ok());
  CHECK(doc.error().message == "duplicate key 'a' in this object");
  CHECK(doc.error().position.column == 10);
}

TEST_CASE("columns count characters, not bytes", "[json]") {
  auto doc = parse_json_with_positions("{\"é\": \"ü\", \"k\": 1}");
  REQUIRE(doc.ok());
  CHECK(doc->position(doc->root.find("k")->offset).column == 17);
}
