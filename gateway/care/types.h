// Common value types of the canonical care model (domain.md section 6, principles b-d).
//
// Plain value types: copyable, comparable with ==, no invariants enforced in C++. Checks
// (required fields, formats, enum values, cross-field rules) run when a value is read from JSON
// (json.h). Conventions for every struct of the model:
//  - std::string members: empty means absent, and absent strings are not written to JSON;
//  - std::optional<X>: 0..1; std::vector<X>: 0..* (empty lists are not written);
//  - dates are ISO 8601 text ("2024-03-01", partial "2024-03" and "2024" allowed: the precision
//    of the source is kept); dateTimes carry an offset ("2024-03-01T14:05:00+00:00").
// Field meanings are written once, in describe() in model.cc, and published in MODEL.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "care/reflect.h"

namespace midhurst::care {

// One code from one code system (SNOMED CT, an NHS Data Dictionary code, a v2 table...).
struct Coding {
  std::string system;  // code system URI (codes.h); absent only for an unmapped local code
  std::string code;    // required
  std::string display;
  bool operator==(const Coding&) const = default;
  static const StructInfo& describe();
};

// A coded value: several codings for one meaning (e.g. NHS DD + SNOMED) plus the text as sent.
struct CodeableConcept {
  std::vector<Coding> codings;
  std::string original_text;
  bool operator==(const CodeableConcept&) const = default;
  static const StructInfo& describe();
};

struct Period {
  std::string start;  // dateTime
  std::string end;    // dateTime
  bool operator==(const Period&) const = default;
  static const StructInfo& describe();
};

struct Identifier {
  std::string system;        // required: identifier system URI (codes.h, domain.md section 5)
  std::string value;         // required
  std::string type;          // HL7 table 0203 code: NH, MR, VN, ...
  std::string assigner_ods;  // ODS code of the organisation that issued it (MRNs)
  std::optional<Period> period;
  bool operator==(const Identifier&) const = default;
  static const StructInfo& describe();
};

enum class NameUse { kUsual, kOfficial, kTemp, kNickname, kAnonymous, kOld, kMaiden };
const EnumInfo& describe_enum(NameUse);

struct HumanName {
  std::optional<NameUse> use;
  std::string text;
  std::string family;
  std::vector<std::string> given;
  std::vector<std::string> prefix;
  std::vector<std::string> suffix;
  std::optional<Period> period;
  bool operator==(const HumanName&) const = default;
  static const StructInfo& describe();
};

enum class AddressUse { kHome, kWork, kTemp, kOld, kBilling };
const EnumInfo& describe_enum(AddressUse);

struct Address {
  std::optional<AddressUse> use;
  std::string text;
  std::vector<std::string> lines;
  std::string city;
  std::string district;  // county
  std::string postcode;
  std::string country;  // ISO 3166 code as sent (GBR)
  std::optional<Period> period;
  bool operator==(const Address&) const = default;
  static const StructInfo& describe();
};

enum class ContactSystem { kPhone, kFax, kEmail, kPager, kUrl, kSms, kOther };
const EnumInfo& describe_enum(ContactSystem);
enum class ContactUse { kHome, kWork, kTemp, kOld, kMobile };
const EnumInfo& describe_enum(ContactUse);

struct ContactPoint {
  ContactSystem system = ContactSystem::kPhone;
  std::string value;  // required
  std::optional<ContactUse> use;
  std::optional<int> rank;  // 1 = most preferred
  std::optional<Period> period;
  bool operator==(const ContactPoint&) const = default;
  static const StructInfo& describe();
};

// The kinds of entity a Reference can point at (the entity registry, registry.h).
enum class EntityType {
  kPatient,
  kRelatedPerson,
  kOrganization,
  kPractitioner,
  kPractitionerRole,
  kCareTeamMember,
  kEncounter,
  kReferral,
  kEndOfLifePlan,
  kProvenance,
};
const EnumInfo& describe_enum(EntityType);

// A pointer to another care entity: by gateway id when the gateway knows it, else by a business
// identifier (NHS number, ODS code, GMC number...) that the store resolves. At least one of the
// two is required.
struct Reference {
  EntityType type = EntityType::kPatient;
  std::string id;  // gateway id of the target
  std::optional<Identifier> identifier;
  std::string display;
  bool operator==(const Reference&) const = default;
  static const StructInfo& describe();
};

// A sending or recording system: application name plus the ODS code of its organisation.
struct SourceSystem {
  std::string application;
  std::string organization_ods;
  bool operator==(const SourceSystem&) const = default;
  static const StructInfo& describe();
};

enum class RecordStatus { kActive, kInactive, kEnteredInError };
const EnumInfo& describe_enum(RecordStatus);

// Who said a clinical assertion, when, from which system, and when to review it
// (domain.md section 6, principle c). Every end-of-life item carries one.
struct Recorded {
  std::string recorded_at;  // dateTime
  std::optional<Reference> recorded_by;
  std::optional<SourceSystem> source_system;
  std::optional<RecordStatus> status;
  std::string review_date;  // date
  bool operator==(const Recorded&) const = default;
  static const StructInfo& describe();
};

}  // namespace midhurst::care
