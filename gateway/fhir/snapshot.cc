// Snapshot generation for differential-only StructureDefinitions (UK Core, Midhurst): base
// snapshot + differential -> the element list the validator walks. See profile_set.h for what is
// and is not done.
#include "fhir/snapshot.h"

#include <algorithm>

#include "fhir/element_rule.h"

namespace midhurst::fhir {

struct SnapshotBuilder {
  StructureDef& sd;
  const BaseTypeLookup& base_type;

  void reindex() { sd.index(); }

  bool has(const std::string& id) const { return sd.find(id) != nullptr; }

  // Appends copies of `from`'s elements below `from_prefix` (excluded), renamed to start with
  // `to_id` / `to_path` instead.
  void copy_descendants(const std::vector<ElementRule>& from, const std::string& from_id,
                        const std::string& from_path, const std::string& to_id,
                        const std::string& to_path) {
    std::vector<ElementRule> add;
    for (const auto& e : from) {
      if (e.id.size() <= from_id.size() || e.id.compare(0, from_id.size(), from_id) != 0) continue;
      char next = e.id[from_id.size()];
      if (next != '.') continue;
      ElementRule c = e;
      c.id = to_id + e.id.substr(from_id.size());
      c.path = to_path + e.path.substr(from_path.size());
      add.push_back(std::move(c));
    }
    for (auto& e : add) sd.elements.push_back(std::move(e));
    reindex();
  }

  // Makes sure an element with this id exists, creating slices and unfolding data types on the
  // way. Returns an empty string on success, else why not.
  std::string ensure(const std::string& id) {
    if (has(id)) return {};
    auto dot = id.rfind('.');
    if (dot == std::string::npos) return "no element '" + id + "' in the base";
    std::string parent = id.substr(0, dot);
    std::string last = id.substr(dot + 1);
    auto colon = last.find(':');
    if (colon != std::string::npos) {
      // A new slice: a copy of the sliced element and what is below it, cardinality reset to
      // 0..(its max), because a slice is optional unless the differential says otherwise.
      std::string sliced = parent + "." + last.substr(0, colon);
      if (auto why = ensure(sliced); !why.empty()) return why;
      ElementRule copy = *sd.find(sliced);
      std::string sliced_path = copy.path;
      copy.id = id;
      copy.slice_name = last.substr(colon + 1);
      copy.min = 0;
      copy.slicing.reset();
      std::vector<ElementRule> snapshot = sd.elements;  // copy: push_back invalidates
      sd.elements.push_back(std::move(copy));
      reindex();
      copy_descendants(snapshot, sliced, sliced_path, id, sliced_path);
      return {};
    }
    if (auto why = ensure(parent); !why.empty()) return why;
    const ElementRule& p = *sd.find(parent);
    size_t pi = &p - sd.elements.data();
    if (!sd.children(pi).empty()) return "no element '" + id + "' in the base";
    // Unfold the parent's type (or the element its contentReference names).
    std::string parent_id = p.id, parent_path = p.path;
    if (!p.content_reference.empty()) {
      std::string ref = p.content_reference.substr(p.content_reference.find('#') + 1);
      std::vector<ElementRule> snapshot = sd.elements;
      const ElementRule* target = sd.find(ref);
      if (!target) return "contentReference '" + p.content_reference + "' not found";
      std::string target_id = target->id, target_path = target->path;
      copy_descendants(snapshot, target_id, target_path, parent_id, parent_path);
    } else {
      if (p.types.size() != 1) {
        return "cannot unfold '" + parent + "' to reach '" + id + "': it has " +
               std::to_string(p.types.size()) + " types (restrict the type first)";
      }
      const StructureDef* t = base_type(p.types[0].code);
      if (!t) return "no definition of type '" + p.types[0].code + "' to unfold '" + parent + "'";
      copy_descendants(t->elements, t->elements[0].id, t->elements[0].path, parent_id,
                       parent_path);
    }
    if (!has(id)) return "no element '" + id + "' in type of '" + parent + "'";
    return {};
  }
};

std::string build_snapshot(StructureDef& sd, const StructureDef& base,
                           const rapidjson::Value& differential, const BaseTypeLookup& base_type) {
  sd.elements = base.elements;
  SnapshotBuilder b{sd, base_type};
  b.reindex();
  if (!differential.IsArray()) return {};
  for (const auto& el : differential.GetArray()) {
    ElementRule diff = internal::read_element(el);
    if (diff.id.empty()) return "a differential element has neither id nor path";
    if (auto why = b.ensure(diff.id); !why.empty()) return diff.id + ": " + why;
    ElementRule* target = &sd.elements[&*sd.find(diff.id) - sd.elements.data()];
    internal::merge_element(*target, diff);
    // A type restricted to one profile of Extension is how an extension slice is declared;
    // nothing more to do here: the validator follows the profile.
  }
  b.reindex();
  return {};
}

}  // namespace midhurst::fhir
