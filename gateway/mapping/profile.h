// Mapping profiles: what a profile file means once loaded and checked, and ProfileSet, the
// atomically replaceable set of every profile and ConceptMap under a mappings directory.
//
// The file format is documented for integration engineers in mappings/README.md. In short: a
// profile has a name, version, direction, optional `extends` (a base profile by name; rules with
// the same id override, `remove` drops rules by id, new rules are added), `match` (a condition
// on the message that selects it), `timezone`, `ignore` (source fields deliberately not mapped)
// and `rules`. A rule has a unique id, a source path, a target path, and optional when,
// transform, default, conceptMap, unmapped, required and invalid; a rule with `rules` is a group
// whose inner rules read relative to its source and write relative to its target.
//
// Loading (ProfileSet::load_dir) checks everything and refuses a bad set as a whole, with every
// problem's file, line, column and reason (load_error.h). The hl7v2→care direction compiles into
// `rules`; care→fhir into `fhir_rules` (care_fhir_rule.h: care source paths, FHIR targets checked
// against the FHIR model); fhir→care into `fhir_care_rules` (fhir_care_rule.h: FHIR sources,
// care targets); care→hl7v2 into `care_v2_rules` (care_v2_rule.h: care sources, v2 targets).
//
// Thread-safety: a loaded ProfileSet is immutable; share it through std::shared_ptr. ProfileStore
// swaps sets under a mutex, so readers always see a whole, checked set.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "care/access.h"
#include "mapping/care_fhir_rule.h"
#include "mapping/care_v2_rule.h"
#include "mapping/fhir_care_rule.h"
#include "common/result.h"
#include "mapping/concept_map.h"
#include "mapping/load_error.h"
#include "mapping/transform.h"
#include "mapping/tz.h"
#include "mapping/v2_path.h"

namespace midhurst::mapping {

enum class Direction : std::uint8_t { kHl7v2ToCare, kCareToFhir, kFhirToCare, kCareToHl7v2 };
// "hl7v2→care", ...
const char* direction_name(Direction d);
// Accepts "hl7v2→care" and "hl7v2->care" (and the other three).
std::optional<Direction> parse_direction(std::string_view text);

// A structured condition (`when`, `match`):
//   {"path": P, "equals": "X"}  {"path": P, "in": ["A", "B"]}  {"path": P, "exists": true}
//   {"all": [C...]}  {"any": [C...]}  {"not": C}
// A path that iterates ([*]) holds when any value it names does.
struct Condition {
  enum class Op : std::uint8_t { kEquals, kIn, kExists, kAll, kAny, kNot };
  Op op = Op::kEquals;
  std::optional<V2Path> path;
  std::vector<std::string> values;  // kEquals (one), kIn
  bool exists = true;               // kExists
  std::vector<Condition> children;  // kAll, kAny, kNot (one)
};

struct Rule {
  std::string id;
  std::string description;
  std::string file;  // where the rule is written (a base profile's file for inherited rules)
  std::size_t line = 0, column = 0;

  V2Level context = V2Level::kMessage;  // what relative source paths read from
  std::optional<V2Path> source;
  std::optional<care::Scalar> value;  // a constant instead of a source
  std::optional<Condition> when;
  std::vector<Transform> transforms;
  std::optional<care::Scalar> default_value;
  const ConceptMap* concept_map = nullptr;
  std::string concept_map_name;
  enum class Unmapped : std::uint8_t { kUnset, kWarn, kKeep, kReject } unmapped = Unmapped::kUnset;
  bool required = false;        // no value, or a failing one, rejects the message
  bool reject_invalid = false;  // a failing value rejects the message (`"invalid": "reject"`)
  ValueKind kind = ValueKind::kText;  // what the pipeline delivers

  std::string target;  // as written: relative to the enclosing group's target, if it has one
  std::optional<care::CompiledPath> target_path;  // the full path
  std::size_t target_prefix = 0;  // steps of target_path that belong to the enclosing group
  std::optional<care::CompiledPath> target_rel;  // target_path without the group's steps

  std::vector<Rule> rules;  // a group's inner rules
  bool is_group = false;
};

// A source field deliberately not mapped: "ZU1" (every field of every ZU1), "PID-1", "OBX-5"
// (that field of every occurrence), "OBX[2]-5" (one occurrence), "PID-5.7" (one component).
struct IgnoreEntry {
  std::string text;
  std::string segment;
  std::uint32_t occurrence = 0;  // 0: every occurrence
  std::uint32_t field = 0;       // 0: the whole segment
  std::uint32_t component = 0;   // 0: the whole field

  bool covers(std::string_view seg, std::uint32_t occ, std::uint32_t f, std::uint32_t c) const {
    return seg == segment && (occurrence == 0 || occurrence == occ) && (field == 0 || field == f) &&
           (component == 0 || component == c);
  }
};

struct Profile {
  std::string name, version, description;
  std::string file;
  Direction direction = Direction::kHl7v2ToCare;
  const Profile* base = nullptr;  // `extends`
  int depth = 0;                  // length of the extends chain (a site profile over a base: 1)
  bool abstract = false;          // only for extending; never selected
  int priority = 0;
  std::optional<Condition> match;  // inherited from the base when not given
  std::string timezone = "Europe/London";
  std::shared_ptr<const TimeZone> zone;
  std::vector<IgnoreEntry> ignore;  // the base's entries plus this profile's
  std::vector<Rule> rules;          // effective: inherited, overridden, removed, added
  std::vector<CareFhirRule> fhir_rules;  // care→fhir: resource rules (same merging by id)
  std::vector<FhirCareRule> fhir_care_rules;  // fhir→care: resource rules (`ignore` entries hold FHIR element paths)
  std::vector<CareV2Rule> care_v2_rules;      // care→hl7v2
  CareV2Message v2_message;                   // care→hl7v2: MSH-9, MSH-12
  std::optional<CareCondition> care_match;    // care→hl7v2: which records the profile is for
};

struct LoadOptions {
  std::string zoneinfo_dir = std::string(kSystemZoneinfoDir);
  // The FHIR model care→fhir targets are checked against (and the engine writes by). When null,
  // it is read from `fhir_profiles_dir`/fhir-r4-model.json; when that is empty too, load_dir
  // uses the repository layout, the `profiles` directory beside the mappings directory. Only
  // needed when the set holds a care→fhir profile.
  std::shared_ptr<const fhir::Model> fhir_model;
  std::string fhir_profiles_dir;
};

class ProfileSet {
 public:
  struct SourceFile {
    std::string name;  // for messages (a path relative to the mappings directory)
    std::string text;
  };

  // Loads every profile under `mappings_dir` (*.json in any sub-directory except concepts/ and
  // fixtures/) and every ConceptMap in `mappings_dir`/concepts/. All or nothing: any error
  // refuses the whole set, with every error found.
  static Result<std::shared_ptr<const ProfileSet>, LoadErrors> load_dir(const std::string& mappings_dir,
                                                                        const LoadOptions& options = {});
  // Same from texts (tests, tools). A ConceptMap is known by its file name without ".json" (and
  // any directory) and by its url.
  static Result<std::shared_ptr<const ProfileSet>, LoadErrors> load(const std::vector<SourceFile>& profiles,
                                                                    const std::vector<SourceFile>& concept_maps,
                                                                    const LoadOptions& options = {});

  const std::vector<std::unique_ptr<Profile>>& profiles() const { return profiles_; }
  const Profile* find(std::string_view name) const;
  const ConceptMap* concept_map(std::string_view name) const;
  const std::string& directory() const { return directory_; }
  // The FHIR model the care→fhir profiles were checked against; null when the set has none.
  const fhir::Model* fhir_model() const { return fhir_model_.get(); }
  // care→fhir, worked out once at load (translate_to_fhir needs them per record): the profiles
  // that apply when none is named (render::applicable_profiles) and, by care::EntityType, the
  // resource type each entity renders as (render::entity_resource_types).
  const std::vector<const Profile*>& care_fhir_profiles() const { return care_fhir_profiles_; }
  const std::vector<std::string>& care_fhir_entity_resources() const { return care_fhir_entity_resources_; }

 private:
  friend class Loader;
  std::string directory_;
  std::shared_ptr<const fhir::Model> fhir_model_;
  std::vector<std::unique_ptr<Profile>> profiles_;
  std::vector<std::unique_ptr<ConceptMap>> concept_maps_;
  std::map<std::string, const ConceptMap*, std::less<>> concept_map_index_;
  std::vector<const Profile*> care_fhir_profiles_;
  std::vector<std::string> care_fhir_entity_resources_;
};

// Holds the current ProfileSet for hot reload: readers take a snapshot with current(); reload()
// installs a new set only if it loads without error, else keeps the old one and returns why.
class ProfileStore {
 public:
  std::shared_ptr<const ProfileSet> current() const;
  Status<LoadErrors> reload(const std::string& mappings_dir, const LoadOptions& options = {});
  void replace(std::shared_ptr<const ProfileSet> set);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ProfileSet> current_;  // GUARDED_BY(mu_)
};

}  // namespace midhurst::mapping
