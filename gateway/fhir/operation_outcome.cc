#include "fhir/operation_outcome.h"

namespace midhurst::fhir {

namespace {
rapidjson::Value text(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}
}  // namespace

rapidjson::Value make_operation_outcome(const std::vector<Issue>& issues,
                                        rapidjson::Document::AllocatorType& a) {
  rapidjson::Value oo(rapidjson::kObjectType);
  oo.AddMember("resourceType", "OperationOutcome", a);
  rapidjson::Value list(rapidjson::kArrayType);
  auto add = [&](const Issue& i) {
    rapidjson::Value item(rapidjson::kObjectType);
    item.AddMember("severity", text(to_code(i.severity), a), a);
    item.AddMember("code", text(to_code(i.type), a), a);
    if (!i.diagnostics.empty()) item.AddMember("diagnostics", text(i.diagnostics, a), a);
    if (!i.expression.empty()) {
      rapidjson::Value expr(rapidjson::kArrayType);
      expr.PushBack(text(i.expression, a), a);
      item.AddMember("expression", expr, a);
    }
    list.PushBack(item, a);
  };
  for (const auto& i : issues) add(i);
  if (issues.empty()) {
    add({Severity::kInformation, IssueType::kInformational, "", "No issues detected."});
  }
  oo.AddMember("issue", list, a);
  return oo;
}

rapidjson::Document make_operation_outcome(const std::vector<Issue>& issues,
                                           const std::string& id) {
  rapidjson::Document doc;
  auto& a = doc.GetAllocator();
  rapidjson::Value oo = make_operation_outcome(issues, a);
  doc.SetObject();
  doc.AddMember("resourceType", "OperationOutcome", a);
  if (!id.empty()) doc.AddMember("id", text(id, a), a);
  doc.AddMember("issue", oo["issue"], a);
  return doc;
}

}  // namespace midhurst::fhir
