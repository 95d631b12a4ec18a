// Load-time checks shared by every direction's rule compiler (loader.cc, care_fhir_compile.cc,
// fhir_care_compile.cc, care_v2_compile.cc): which keys a rule object may hold, and the typed
// constant a JSON scalar stands for. One copy, so all four refuse a profile the same way.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "care/access.h"
#include "common/json_reader.h"
#include "mapping/load_error.h"

namespace midhurst::mapping {

// Reports each member of `obj` whose key is not in `keys`, naming the allowed ones; false when
// there was any.
template <std::size_t N>
bool check_keys(const JsonNode& obj, const std::string_view (&keys)[N], const ErrorSink& sink,
                std::string_view what) {
  bool ok = true;
  for (const JsonMember& m : obj.members) {
    if (std::find(std::begin(keys), std::end(keys), m.key) != std::end(keys)) continue;
    std::string allowed;
    for (auto k : keys) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
    sink.at(m.key_offset, "unknown key '" + m.key + "' in " + std::string(what) + " (allowed: " + allowed + ")");
    ok = false;
  }
  return ok;
}

// A JSON string, boolean or integer as a care scalar; nullopt for anything else.
inline std::optional<care::Scalar> scalar_of(const JsonNode& n) {
  if (n.is_string()) return care::Scalar(n.string);
  if (n.type == JsonNode::Type::kBool) return care::Scalar(n.boolean);
  if (n.type == JsonNode::Type::kNumber && n.is_integer) return care::Scalar(n.integer);
  return std::nullopt;
}

}  // namespace midhurst::mapping
