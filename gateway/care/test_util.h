// Helpers shared by the care tests: reading the example files and comparing JSON.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace midhurst::care::test {

// The text of gateway/care/<relative>; empty when the file cannot be read.
inline std::string read_source_file(std::string_view relative) {
  std::ifstream in(std::string(MIDHURST_CARE_DIR) + "/" + std::string(relative));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string read_example(std::string_view entity) {
  return read_source_file("examples/" + std::string(entity) + ".json");
}

// True iff both texts parse and are equal as JSON values (member order ignored).
inline bool same_json(const std::string& a, const std::string& b) {
  rapidjson::Document da, db;
  da.Parse(a.c_str());
  db.Parse(b.c_str());
  return !da.HasParseError() && !db.HasParseError() && da == db;
}

}  // namespace midhurst::care::test
