// FHIR R4 ConceptMap resources (https://hl7.org/fhir/R4/conceptmap.html) as mapping code tables.
//
// Code tables live in mappings/concepts/ as ordinary ConceptMap JSON, the same files a
// terminology server ($translate) would serve. What is read: url, name, version, and for each
// group its source/target system, its elements (code -> targets with equivalence) and its
// `unmapped` rule (mode provided | fixed; other-map is refused at load). A target whose
// equivalence is "unmatched" or "disjoint" is not a mapping and is skipped; the first other
// target of an element wins.
//
// Thread-safety: immutable after load; share freely.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "care/types.h"
#include "common/json_reader.h"
#include "common/result.h"
#include "mapping/load_error.h"

namespace midhurst::mapping {

class ConceptMap {
 public:
  struct Target {
    std::string code;
    std::string display;
  };
  struct Group {
    std::string source;  // source code system URI (may be empty)
    std::string target;  // target code system URI (may be empty)
    std::map<std::string, Target, std::less<>> elements;
    enum class Unmapped { kNone, kProvided, kFixed } unmapped = Unmapped::kNone;
    Target fixed;  // kFixed
  };
  // What translate() found.
  struct Translation {
    enum class Kind { kMapped, kUnmappedProvided, kUnmappedFixed, kUnmapped } kind = Kind::kUnmapped;
    care::Coding coding;  // empty for kUnmapped
  };

  // Reads a ConceptMap from a parsed file; problems go to `sink` and nullopt is returned.
  static std::optional<ConceptMap> from_json(const JsonDocument& doc, const ErrorSink& sink);

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  const std::vector<Group>& groups() const { return groups_; }

  // Looks `code` up in each group in order (or only in groups whose source is `source_system`,
  // when given); the first hit wins. Not found: the first group with an `unmapped` rule decides
  // (provided: the code itself, in the group's source system; fixed: the fixed target code).
  Translation translate(std::string_view code, std::string_view source_system = {}) const;
  // The same without copying: views into this map (and, for kUnmappedProvided, `code` itself as
  // the code), for callers that write the coding out at once.
  struct TranslationView {
    Translation::Kind kind = Translation::Kind::kUnmapped;
    std::string_view system, code, display;
  };
  TranslationView lookup(std::string_view code, std::string_view source_system = {}) const;
  // Every target code of every group (and fixed unmapped codes): for load-time checks of enum
  // targets.
  std::vector<std::string> target_codes() const;

 private:
  // Each group's elements hashed by source code (lookup() runs for every coded value translated;
  // the ordered map above stays for the callers that walk it). Built by from_json; a map without
  // it (made otherwise) is looked up in the ordered maps.
  struct CodeHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using CodeIndex = std::unordered_map<std::string, Target, CodeHash, std::equal_to<>>;
  void build_index();

  std::string url_, name_;
  std::vector<Group> groups_;
  std::vector<CodeIndex> index_;  // parallel to groups_
};

}  // namespace midhurst::mapping
