#include "mapping/issue.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace midhurst::mapping {

std::string MappingIssue::to_string() const {
  std::string out = issue.severity == hl7v2::Severity::kError     ? "error"
                    : issue.severity == hl7v2::Severity::kWarning ? "warning"
                                                                  : "information";
  out += " " + std::to_string(static_cast<int>(issue.code)) + " (" + hl7v2::error_code_text(issue.code) + ")";
  if (!source.empty()) out += " at " + source;
  if (!rule.empty()) out += " [rule " + rule + "]";
  return out + ": " + issue.why;
}

hl7v2::Issues to_hl7_issues(const MappingIssues& issues) {
  hl7v2::Issues out;
  out.reserve(issues.size());
  for (const MappingIssue& i : issues) out.push_back(i.issue);
  return out;
}

void append_operation_outcome_issues(const MappingIssues& issues, rapidjson::Value& array,
                                     rapidjson::Document::AllocatorType& a) {
  auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a); };
  for (const MappingIssue& i : issues) {
    rapidjson::Value o(rapidjson::kObjectType);
    const char* sev = i.issue.severity == hl7v2::Severity::kError     ? "error"
                      : i.issue.severity == hl7v2::Severity::kWarning ? "warning"
                                                                      : "information";
    const char* code = "processing";
    switch (i.issue.code) {
      case hl7v2::ErrorCode::kRequiredFieldMissing: code = "required"; break;
      case hl7v2::ErrorCode::kDataType: code = "value"; break;
      case hl7v2::ErrorCode::kTableValueNotFound: code = "code-invalid"; break;
      case hl7v2::ErrorCode::kUnsupportedMessageType:
      case hl7v2::ErrorCode::kUnsupportedEventCode: code = "not-supported"; break;
      default: break;
    }
    o.AddMember("severity", rapidjson::StringRef(sev), a);
    o.AddMember("code", rapidjson::StringRef(code), a);
    o.AddMember("diagnostics", str(i.issue.why), a);
    if (!i.source.empty()) {
      rapidjson::Value loc(rapidjson::kArrayType);
      loc.PushBack(str(i.source), a);
      o.AddMember("location", loc, a);
    }
    if (!i.target.empty()) {
      rapidjson::Value ex(rapidjson::kArrayType);
      ex.PushBack(str(i.target), a);
      o.AddMember("expression", ex, a);
    }
    array.PushBack(o, a);
  }
}

std::string operation_outcome_json(const MappingIssues& issues) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  d.AddMember("resourceType", "OperationOutcome", a);
  rapidjson::Value arr(rapidjson::kArrayType);
  append_operation_outcome_issues(issues, arr, a);
  d.AddMember("issue", arr, a);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace midhurst::mapping
