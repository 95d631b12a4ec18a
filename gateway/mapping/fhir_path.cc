#include "mapping/fhir_path.h"

namespace midhurst::mapping {

bool FhirPath::appends() const {
  for (const Step& s : steps_)
    if (s.select == Step::Select::kAppend) return true;
  return false;
}

Result<FhirPath, FhirPathError> FhirPath::parse(std::string_view text, const fhir::Model& model,
                                                const fhir::TypeDef* root) {
  FhirPath out;
  out.text_ = std::string(text);
  auto fail = [](std::size_t at, std::string why) { return err(FhirPathError{at, std::move(why)}); };
  std::size_t i = 0;
  // Splits off the next segment, skipping '.' inside brackets (URLs in keyed selections).
  auto next_segment = [&](std::size_t& start) {
    start = i;
    int depth = 0;
    while (i < text.size() && (depth > 0 || text[i] != '.')) {
      if (text[i] == '[') ++depth;
      else if (text[i] == ']') --depth;
      ++i;
    }
    std::string_view seg = text.substr(start, i - start);
    if (i < text.size()) ++i;  // the '.'
    return seg;
  };
  if (text.empty()) return fail(0, "empty FHIR path");
  if (text.back() == '.') return fail(text.size() - 1, "a path does not end with '.'");
  if (!root) {
    std::size_t start = 0;
    const std::string_view type = next_segment(start);
    root = model.resource(type);
    if (!root) return fail(0, "'" + std::string(type) + "' is not a FHIR resource type");
  }
  out.root_ = root;
  const fhir::TypeDef* cur = root;
  while (i < text.size()) {
    std::size_t start = 0;
    const std::string_view seg = next_segment(start);
    if (seg.empty()) return fail(start, "empty step in '" + std::string(text) + "'");
    Step step;
    std::string_view name = seg;
    if (const std::size_t br = seg.find('['); br != std::string_view::npos) {
      name = seg.substr(0, br);
      if (seg.back() != ']') return fail(start + br, "a selection '[' ends with ']' at the end of its step");
      const std::string_view inside = seg.substr(br + 1, seg.size() - br - 2);
      if (inside.empty()) {
        step.select = Step::Select::kAppend;
      } else {
        const std::size_t eq = inside.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == inside.size())
          return fail(start + br, "a selection is '[]' (append) or '[key=value]' (the element whose key is value)");
        step.select = Step::Select::kKey;
        step.key = std::string(inside.substr(0, eq));
        step.key_value = std::string(inside.substr(eq + 1));
      }
    }
    step.name = std::string(name);
    if (cur->is_primitive())
      return fail(start, "'" + cur->name + "' is a primitive; it has no element '" + step.name + "'");
    const fhir::TypeDef::Slot* slot = cur->find(name);
    if (!slot) return fail(start, cur->name + " has no element '" + step.name + "'");
    step.element = slot->element;
    step.type = slot->type;
    step.order = slot->index + 1;
    if (slot->element->choice && name == slot->element->name)
      return fail(start, "'" + step.name + "' is a choice: name the type, e.g. '" +
                             slot->element->name_for(*slot->element->types.front()) + "'");
    if (slot->element->repeats && step.select == Step::Select::kNone)
      return fail(start, cur->name + "." + step.name + " repeats: append with '" + step.name +
                             "[]' or select with '" + step.name + "[key=value]'");
    if (!slot->element->repeats && step.select != Step::Select::kNone)
      return fail(start, cur->name + "." + step.name + " does not repeat: drop the '[...]'");
    if (step.select == Step::Select::kKey) {
      const fhir::TypeDef::Slot* key = step.type->find(step.key);
      if (!key || !key->type->is_primitive() || key->element->repeats || key->type->json != fhir::JsonKind::kString)
        return fail(start, "'" + step.key + "' is not a single text element of " + step.type->name +
                               " to select by");
    }
    out.steps_.push_back(std::move(step));
    cur = out.steps_.back().type;
  }
  return out;
}

}  // namespace midhurst::mapping
