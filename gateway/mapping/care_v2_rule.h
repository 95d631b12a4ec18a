// The compiled form of care→hl7v2 profile rules (mappings/README.md, "care→hl7v2 profiles"), and
// the compiler the profile loader calls for profiles of that direction.
//
// A care→hl7v2 profile builds one message: `message` gives MSH-9 and MSH-12, `match` (a care
// condition on the record, absolute paths) says which records it is for. Rules read care paths
// (absolute at the top, relative to the group's value inside a group) and write HL7v2 target
// paths:
//   PID-5.1  PID-3[2].4.1      absolute
//   PID-3[]  OBX[]             a group target: each run takes the next repetition / occurrence
//   .1  .4.1  -5  -5.1         relative to the group's target (component / field)
//   Z* with targetFrom         the path is a care value (a Z-segment key), within segments Z*
// Values are written with hl7v2::Message::set, which escapes them; care dates become HL7 DT
// (YYYYMMDD), dateTimes TS (YYYYMMDDhhmm[ss]+hhmm), booleans Y/N.
//
// Thread-safety: immutable after load, like the rest of a ProfileSet.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "care/access.h"
#include "mapping/care_fhir_rule.h"
#include "mapping/concept_map.h"
#include "mapping/load_error.h"
#include "mapping/transform.h"

namespace midhurst::mapping {

struct CareV2Rule {
  std::string id, description, file;
  std::size_t line = 0, column = 0;

  std::optional<care::CompiledPath> source;  // relative to the context struct (absolute at the top)
  std::string source_text;
  care::PathInfo source_info;
  std::optional<care::Scalar> value;
  std::optional<CareCondition> when;
  std::vector<Transform> transforms;
  const ConceptMap* concept_map = nullptr;
  std::string concept_map_name;
  bool reverse = false;
  enum class Unmapped : std::uint8_t { kWarn, kKeep, kReject } unmapped = Unmapped::kWarn;
  std::optional<care::Scalar> default_value;
  bool required = false;
  bool sequence = false;  // writes the group's run number (OBX-1, NTE-1 set ids)
  bool encoded = false;   // a constant written with its ^ and & as structure ("CPR^CPR decision^MIDHURST-EOL")
  std::size_t skip = 0;   // leaves out the first values of the source ("given" after the first)
  bool last = false;      // only the last value (of a group: the last run whose `when` holds)

  // `targetFrom`: the target is read from the record ("ZU1-3", a Z-segment value's key), and must
  // name a segment whose id starts with `target_segments` (the rule's target "Z*" gives "Z").
  std::optional<care::CompiledPath> target_from;
  std::string target_from_text, target_segments;

  std::string target;  // as written
  enum class TargetKind : std::uint8_t { kAbsolute, kField, kComponent } target_kind = TargetKind::kAbsolute;

  bool is_group = false;
  std::vector<CareV2Rule> rules;
  const care::StructInfo* inner_context = nullptr;  // what the inner rules' sources start from
};

struct CareV2Message {
  std::string type;     // MSH-9, e.g. "ADT^A31^ADT_A05"
  std::string version = "2.5";  // MSH-12
  // `structure`: the segment order of the message structure (REF_I12: RF1 PRD PID NK1 OBR OBX PV1
  // NTE), so segments land where the standard puts them whatever order the rules (a base's, then
  // an extension's) write them in. Empty: the order rules first write them.
  std::vector<std::string> structure;
};

// Compiles one care→hl7v2 profile's rules; problems are appended to `errors`.
bool compile_care_v2_rules(const std::vector<RuleNode>& rules,
                           const std::function<const ConceptMap*(std::string_view)>& concept_map,
                           LoadErrors* errors, std::vector<CareV2Rule>* out);
// Reads the profile's `message` object and `match` (care condition, absolute paths).
bool compile_care_v2_header(const JsonNode* message, const JsonNode* match, const ErrorSink& sink,
                            CareV2Message* out_message, std::optional<CareCondition>* out_match);

}  // namespace midhurst::mapping
