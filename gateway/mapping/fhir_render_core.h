// The care→fhir rule walker shared by the transaction path (fhir_engine.h) and the read API
// (fhir_render.h): runs compiled rules over live care values and writes typed FHIR JSON. Internal
// to the mapping module.
//
// Thread-safety: a RuleWalker is per call; the compiled rules and the context are read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "care/access.h"
#include "mapping/care_fhir_rule.h"
#include "mapping/issue.h"
#include "mapping/profile.h"

namespace midhurst::mapping::render {

using Alloc = rapidjson::Document::AllocatorType;

// How a care Reference is written.
enum class RefMode : std::uint8_t {
  kTransaction,  // business identifier → conditional `Type?identifier=S|V`, else gateway id → `Type/id`
  kRead,         // gateway id → `Type/id`, else a logical reference {"identifier", "display"}
};

struct Context {
  RefMode mode = RefMode::kTransaction;
  // Indexed by care::EntityType: the FHIR resource type an entity of that type renders as
  // (its primary rule's), "" when none.
  const std::vector<std::string>* entity_resource = nullptr;
  // "@referencedBy": read mode, the references given by the caller.
  const std::vector<care::Reference>* referenced_by = nullptr;
  // "@referencedBy": transaction mode, the fullUrls of the resources already in the Bundle.
  const std::vector<std::string>* referenced_urls = nullptr;
  // "@entity", transaction mode: by care::EntityType, the fullUrl of the resource the entity's
  // primary rule put in the Bundle ("" when none yet).
  const std::vector<std::string>* entity_urls = nullptr;
  // When set, every care scalar a rule read is noted here (for the field ledger).
  std::vector<const void*>* read = nullptr;
  // ... and every care struct a rule rendered as a whole (a Reference).
  std::vector<const void*>* read_whole = nullptr;
};

// The care→fhir profiles that apply: every non-abstract one no loaded profile extends, in load
// order; or only `only` when given.
std::vector<const Profile*> applicable_profiles(const ProfileSet& set, std::string_view only);
// True iff a resource rule renders its entity as a whole (its source is the entity itself).
bool renders_whole_entity(const CareFhirRule& r);
// The resource type of each entity type's primary rule (see Context::entity_resource).
std::vector<std::string> entity_resource_types(const std::vector<const Profile*>& profiles);

bool holds(const CareCondition& c, const void* obj, const care::StructInfo& info);
// The first scalar a path reaches, as text, into `out` ("" when none; its buffer is reused).
void first_text_into(const care::CompiledPath& p, const void* obj, const care::StructInfo& info, std::string& out);
// A care dateTime as a FHIR dateTime/instant (":00" seconds added to hh:mm).
std::string fhir_date_time(std::string_view v);

// One value on its way to the JSON, borrowed from the record, the rule or a transform's output
// (no copy of the text is made for the common rule without transforms).
struct ValueView {
  enum class Kind : std::uint8_t { kText, kBoolean, kInteger, kCoding } kind = Kind::kText;
  std::string_view text;
  bool boolean = false;
  std::int64_t integer = 0;
  const care::Coding* coding = nullptr;
};
// The scalar at `ref` (nullopt for a struct or an empty string), like care::read_scalar.
std::optional<ValueView> view_of(const care::ValueRef& ref);
// Puts every object's members in FHIR definition order, resourceType first. The walker keeps
// them in that order as it builds a resource; run this only when it says it could not
// (RuleWalker::needs_order), since it costs a model lookup per member of the whole resource.
void order(rapidjson::Value& v, const fhir::TypeDef& type, Alloc& a);

// An object the rules write into, with what is known of its members' order: the largest
// definition-order key among them (kUnknown until a member added has shown it). Rules are
// mostly written in definition order, so a new member mostly goes last; knowing so, it is added
// without looking the key of the one before it up in the model (add_in_order).
// REQUIRES: members are added to `json` through place() only while this Element is in use.
struct Element {
  static constexpr std::size_t kUnknown = SIZE_MAX;
  rapidjson::Value& json;
  std::size_t max_key = kUnknown;
};

class RuleWalker {
 public:
  RuleWalker(Alloc& a, MappingIssues& issues, const Context& ctx) : a_(a), issues_(issues), ctx_(ctx) {}
  bool failed = false;

  // Runs a resource rule's inner rules over one value of its source into `resource`; true when
  // some rule wrote a value read from the record. `entity` is the entity the source starts at
  // (for '/' paths and "@entity").
  bool resource(const CareFhirRule& r, const void* entity, const void* value, const care::StructInfo& info,
                rapidjson::Value& resource);
  // After resource(): true when the resource needs order(). The walker adds every member at its
  // place in definition order, so only an object it cannot type (merged under a name FHIR does
  // not define) asks for it. `resource` must have held only members in definition order
  // (resourceType, id, meta) before.
  bool needs_order() const { return unordered_; }

  void issue(const CareFhirRule& r, bool error, hl7v2::ErrorCode code, std::string why);

 private:
  void rules(const std::vector<CareFhirRule>& rs, const void* ctx, const care::StructInfo& info,
             Element& elem, bool& wrote);
  void group(const CareFhirRule& r, const void* ctx, const care::StructInfo& info, Element& elem, bool& wrote);
  void leaf(const CareFhirRule& r, const void* ctx, const care::StructInfo& info, Element& elem, bool& wrote);
  bool reference_value(const CareFhirRule& r, const care::Reference& ref, rapidjson::Value& out);
  void referenced_by(const CareFhirRule& r, Element& elem, bool& wrote);
  bool value(const CareFhirRule& r, const ValueView& item, const fhir::TypeDef& type, rapidjson::Value& out);
  // A leaf whose rule has transforms: its values are copied into Items for them.
  void transformed_leaf(const CareFhirRule& r, const void* from, const care::StructInfo& from_info,
                        Element& elem, bool& wrote);
  void emit(const CareFhirRule& r, const ValueView& item, bool from_record, Element& elem, bool& wrote,
            bool& placed);
  void note_read(const care::ValueRef& ref);
  void self_reference(const CareFhirRule& r, Element& elem, bool& wrote);

  std::vector<Item> items_;  // transformed_leaf's values, reused across rules
  std::string text_;         // a reference's text on its way into the JSON, reused likewise
  const void* entity_ = nullptr;
  const care::EntityInfo* entity_info_ = nullptr;
  bool unordered_ = false;  // see needs_order()

  Alloc& a_;
  MappingIssues& issues_;
  const Context& ctx_;
};

}  // namespace midhurst::mapping::render
