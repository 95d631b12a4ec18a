// OperationOutcome building: codes, locations, the empty list, and text that would break a
// template; the result validates against base R4.
#include "fhir/issue.h"
#include "fhir/json.h"
#include "fhir/operation_outcome.h"
#include "fhir/test_support.h"
#include "fhir/validator.h"

namespace midhurst::fhir {
namespace {

TEST_CASE("operation outcome: issues become issue entries with code and expression") {
  std::vector<Issue> issues = {
      {Severity::kError, IssueType::kRequired, "Patient.identifier[0].value",
       "minimum cardinality 1, found 0"},
      {Severity::kWarning, IssueType::kCodeInvalid, "", "a \"quoted\" \\ back\nslash – ünïcode"},
  };
  auto oo = make_operation_outcome(issues, "oo-1");
  CHECK(validate(oo, testing::profile_set(), {}, ValidationOptions::strict()).empty());
  REQUIRE(oo["issue"].Size() == 2);
  CHECK(std::string(oo["issue"][0]["severity"].GetString()) == "error");
  CHECK(std::string(oo["issue"][0]["code"].GetString()) == "required");
  CHECK(std::string(oo["issue"][0]["expression"][0].GetString()) == "Patient.identifier[0].value");
  CHECK(std::string(oo["issue"][1]["code"].GetString()) == "code-invalid");
  CHECK_FALSE(oo["issue"][1].HasMember("expression"));
  // Printed and parsed back, the awkward text survives unchanged.
  auto text = write_json(oo, testing::r4_model());
  REQUIRE(text.ok());
  auto back = testing::json(*text);
  CHECK(std::string(back["issue"][1]["diagnostics"].GetString()) == issues[1].diagnostics);
}

TEST_CASE("operation outcome: an empty list still has one informational issue") {
  auto oo = make_operation_outcome({});
  REQUIRE(oo["issue"].Size() == 1);
  CHECK(std::string(oo["issue"][0]["severity"].GetString()) == "information");
  CHECK(std::string(oo["issue"][0]["code"].GetString()) == "informational");
  CHECK(validate(oo, testing::profile_set()).empty());
}

TEST_CASE("operation outcome: every issue-type code is R4's") {
  CHECK(to_code(IssueType::kInvalid) == "invalid");
  CHECK(to_code(IssueType::kMultipleMatches) == "multiple-matches");
  CHECK(to_code(IssueType::kBusinessRule) == "business-rule");
  CHECK(to_code(IssueType::kThrottled) == "throttled");
  CHECK(to_code(IssueType::kInformational) == "informational");
  CHECK(to_code(Severity::kFatal) == "fatal");
  CHECK(has_errors({{Severity::kWarning, IssueType::kValue, "", ""},
                    {Severity::kError, IssueType::kValue, "", ""}}));
  CHECK_FALSE(has_errors({{Severity::kWarning, IssueType::kValue, "", ""}}));
}

}  // namespace
}  // namespace midhurst::fhir
