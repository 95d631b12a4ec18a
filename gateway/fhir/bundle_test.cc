// Bundle building: each kind validates against base R4 (and UK Core Bundle), transaction
// entries carry conditional requests on business identifiers, and misuse is refused.
#include "fhir/bundle.h"
#include "fhir/test_support.h"
#include "fhir/validator.h"

namespace midhurst::fhir {
namespace {

using testing::json;
using testing::profile_set;

constexpr const char* kNhs = "https://fhir.nhs.uk/Id/nhs-number";
constexpr const char* kOds = "https://fhir.nhs.uk/Id/ods-organization-code";

void check_valid(const rapidjson::Value& bundle) {
  auto issues = validate(bundle, profile_set(), {}, ValidationOptions::strict());
  INFO(to_string(issues));
  CHECK(issues.empty());
  auto uk = validate(bundle, profile_set(),
                     "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Bundle");
  INFO(to_string(uk));
  CHECK_FALSE(has_errors(uk));
}

TEST_CASE("bundle: conditional search strings") {
  CHECK(conditional_reference("Patient", kNhs, "9449305552") ==
        "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552");
  // FHIR search escapes, then percent-encoding: a value can never split the query.
  CHECK(identifier_search("urn:x", "a|b,c&d e\\") == "identifier=urn:x|a%5C%7Cb%5C%2Cc%26d%20e%5C%5C");
  // Written over a buffer the caller keeps: its earlier text is replaced, not appended to.
  std::string out = "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|RYJ and more";
  conditional_reference("Patient", kNhs, "9449305552", out);
  CHECK(out == conditional_reference("Patient", kNhs, "9449305552"));
  conditional_reference("Practitioner", "urn:x", "a|b", out);
  CHECK(out == "Practitioner?identifier=urn:x|a%5C%7Cb");
}

TEST_CASE("bundle: a transaction with conditional create and update validates") {
  auto patient = json(R"({"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449305552"}],
      "managingOrganization":{"reference":"Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|RYJ"}})");
  auto org = json(R"({"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RYJ"}],"name":"Imperial \"College\" Healthcare"})");
  auto flag = json(R"({"resourceType":"Flag","id":"f1","status":"active","code":{"text":"DNACPR"},"subject":{"reference":"urn:uuid:5f0c7a3e-3b7e-4f5e-9f0a-1d2c3b4a5e6f"}})");
  BundleBuilder b(BundleType::kTransaction);
  b.add_conditional_create(org, "urn:uuid:1a2b3c4d-0000-4000-8000-000000000001", kOds, "RYJ")
      .add_conditional_update(patient, "urn:uuid:5f0c7a3e-3b7e-4f5e-9f0a-1d2c3b4a5e6f", kNhs, "9449305552")
      .add_update(flag, "");
  auto bundle = b.finish();
  REQUIRE(bundle.ok());
  const auto& e = (*bundle)["entry"];
  REQUIRE(e.Size() == 3);
  CHECK(std::string(e[0]["request"]["method"].GetString()) == "POST");
  CHECK(std::string(e[0]["request"]["url"].GetString()) == "Organization");
  CHECK(std::string(e[0]["request"]["ifNoneExist"].GetString()) ==
        "identifier=https://fhir.nhs.uk/Id/ods-organization-code|RYJ");
  CHECK(std::string(e[1]["request"]["method"].GetString()) == "PUT");
  CHECK(std::string(e[1]["request"]["url"].GetString()) ==
        "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552");
  CHECK(std::string(e[2]["request"]["url"].GetString()) == "Flag/f1");
  CHECK(std::string(e[0]["resource"]["name"].GetString()) == "Imperial \"College\" Healthcare");
  check_valid(*bundle);
}

TEST_CASE("bundle: message, document, searchset and collection validate") {
  auto header = json(R"({"resourceType":"MessageHeader","eventCoding":{"system":"https://fhir.nhs.uk/CodeSystem/message-event","code":"servicerequest-request"},
      "source":{"endpoint":"urn:midhurst"},"focus":[{"reference":"urn:uuid:5f0c7a3e-3b7e-4f5e-9f0a-1d2c3b4a5e6f"}]})");
  auto patient = json(R"({"resourceType":"Patient","id":"p1","active":true})");
  auto composition = json(R"({"resourceType":"Composition","status":"final","type":{"coding":[{"system":"http://snomed.info/sct","code":"861411000000103"}]},
      "subject":{"reference":"Patient/p1"},"date":"2026-11-01T10:00:00+00:00","author":[{"display":"Midhurst"}],"title":"End of life care coordination summary"})");
  {
    BundleBuilder b(BundleType::kMessage);
    b.id("m1").timestamp("2026-11-01T10:00:00+00:00").add(header, "urn:uuid:00000000-0000-4000-8000-000000000001")
        .add(patient, "urn:uuid:5f0c7a3e-3b7e-4f5e-9f0a-1d2c3b4a5e6f");
    auto m = b.finish();
    REQUIRE(m.ok());
    check_valid(*m);
  }
  {
    BundleBuilder b(BundleType::kDocument);
    b.identifier("urn:ietf:rfc:3986", "urn:uuid:00000000-0000-4000-8000-000000000002")
        .timestamp("2026-11-01T10:00:00+00:00")
        .add(composition, "urn:uuid:00000000-0000-4000-8000-000000000003")
        .add(patient, "https://midhurst.example/fhir/Patient/p1");
    auto d = b.finish();
    REQUIRE(d.ok());
    check_valid(*d);
  }
  {
    BundleBuilder b(BundleType::kSearchset);
    b.total(1).link("self", "https://midhurst.example/fhir/Patient?_id=p1")
        .add_search_result(patient, "https://midhurst.example/fhir/Patient/p1");
    auto s = b.finish();
    REQUIRE(s.ok());
    CHECK(std::string((*s)["entry"][0]["search"]["mode"].GetString()) == "match");
    check_valid(*s);
  }
  {
    BundleBuilder b(BundleType::kCollection);
    b.add(patient, "https://midhurst.example/fhir/Patient/p1");
    auto c = b.finish();
    REQUIRE(c.ok());
    check_valid(*c);
  }
}

TEST_CASE("bundle: misuse is refused with the rule broken") {
  auto patient = json(R"({"resourceType":"Patient","id":"p1"})");
  {
    BundleBuilder b(BundleType::kMessage);
    b.add(patient, "");
    auto m = b.finish();
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().to_string() == "Bundle.entry[0]: a message Bundle starts with its MessageHeader (bdl-8)");
  }
  {
    BundleBuilder b(BundleType::kTransaction);
    b.add(patient, "");
    CHECK_FALSE(b.finish().ok());
  }
  {
    BundleBuilder b(BundleType::kDocument);
    auto d = b.finish();
    REQUIRE_FALSE(d.ok());
  }
  {
    BundleBuilder b(BundleType::kCollection);
    b.total(3);
    CHECK_FALSE(b.finish().ok());
  }
}

TEST_CASE("bundle: a resource built in the builder's allocator is moved in, giving the same Bundle") {
  const char* text = R"({"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449305552"}],"name":[{"family":"Smith"}]})";
  auto resource = json(text);
  BundleBuilder copied(BundleType::kTransaction);
  copied.add_conditional_create(resource, "urn:uuid:1", kNhs, "9449305552");
  copied.add_conditional_update(resource, "urn:uuid:2", kNhs, "9449305552");
  copied.add_create(resource, "urn:uuid:3");
  BundleBuilder moved(BundleType::kTransaction);
  auto build = [&] {
    rapidjson::Value r;
    r.CopyFrom(resource, moved.allocator());
    return r;
  };
  rapidjson::Value r1 = build(), r2 = build(), r3 = build();
  moved.add_conditional_create(std::move(r1), "urn:uuid:1", kNhs, "9449305552");
  moved.add_conditional_update(std::move(r2), "urn:uuid:2", kNhs, "9449305552");
  moved.add_create(std::move(r3), "urn:uuid:3");
  CHECK(r1.IsNull());  // taken, not copied
  auto a = copied.finish();
  auto b = moved.finish();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  CHECK(std::string((*b)["entry"][1]["request"]["url"].GetString()) ==
        "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552");
  CHECK(std::string((*b)["entry"][0]["resource"]["name"][0]["family"].GetString()) == "Smith");
  check_valid(*b);
}

}  // namespace
}  // namespace midhurst::fhir
