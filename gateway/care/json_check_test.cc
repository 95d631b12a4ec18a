// check_reads_back (json.h) must say exactly what a JSON round trip would: the same success, or
// the same first error with the same path. Checked on the fully populated examples and on many
// broken variants of them (each kind of check the reader makes: empty strings in optionals and
// lists, date and dateTime formats at every depth, list bounds, required fields, cross-field
// rules).
#include <catch2/catch.hpp>

#include <string>

#include "care/json.h"
#include "care/model.h"
#include "care/test_util.h"

namespace midhurst::care {
namespace {

// The round trip's verdict and the checker's, as text ("" = reads back).
template <class T>
std::pair<std::string, std::string> verdicts(const T& value) {
  auto parsed = from_json<T>(to_json(value));
  auto checked = check_reads_back(value);
  return {parsed.ok() ? "" : parsed.error().to_string(), checked.ok() ? "" : checked.error().to_string()};
}

template <class T>
T example(std::string_view name) {
  auto v = from_json<T>(test::read_example(name));
  REQUIRE(v.ok());
  return std::move(*v);
}

}  // namespace

TEST_CASE("check_reads_back agrees with a JSON round trip", "[json]") {
  SECTION("every fully populated example reads back") {
    auto same = [](const auto& v) {
      auto [round_trip, check] = verdicts(v);
      CHECK(round_trip == "");
      CHECK(check == "");
    };
    same(example<Patient>("patient"));
    same(example<RelatedPerson>("relatedPerson"));
    same(example<Organization>("organization"));
    same(example<Practitioner>("practitioner"));
    same(example<PractitionerRole>("practitionerRole"));
    same(example<CareTeamMember>("careTeamMember"));
    same(example<Encounter>("encounter"));
    same(example<Referral>("referral"));
    same(example<EndOfLifePlan>("eol"));
    same(example<Provenance>("provenance"));
  }

  SECTION("broken values fail with the same first error") {
    std::vector<std::pair<std::string, std::string>> cases;
    auto add = [&](const auto& v) { cases.push_back(verdicts(v)); };
    const Patient p = example<Patient>("patient");
    {  // a required header field left empty
      Patient x = p;
      x.id.clear();
      add(x);
    }
    {  // a bad date at the top level, then a bad dateTime deeper down
      Patient x = p;
      x.birth_date = "1942-13-01";
      add(x);
      x = p;
      REQUIRE(!x.names.empty());
      x.names[0].period = Period{"2020-01-01T10:00", ""};  // a time without an offset
      add(x);
    }
    {  // an empty string inside a list, and inside an optional struct
      Patient x = p;
      REQUIRE(!x.names.empty());
      x.names[0].given.push_back("");
      add(x);
      x = p;
      x.nhs_number = NhsNumber{"", std::nullopt};
      add(x);
    }
    {  // a cross-field rule: an NHS number failing Modulus 11
      Patient x = p;
      x.nhs_number = NhsNumber{"9449305553", std::nullopt};
      add(x);
    }
    {  // the model's rule on death: deceasedAt with deceased false
      Patient x = p;
      x.deceased = false;
      x.deceased_at = "2026-01-01";
      add(x);
    }
    {  // a reference with neither id nor identifier
      Encounter e = example<Encounter>("encounter");
      e.patient = Reference{};
      add(e);
    }
    {  // two errors: the first in field order wins
      Encounter e = example<Encounter>("encounter");
      e.last_updated = "yesterday";
      e.patient = Reference{};
      add(e);
    }
    {  // a Provenance missing its required receivedAt
      Provenance v = example<Provenance>("provenance");
      v.received_at.clear();
      add(v);
    }
    {  // an end-of-life plan with a bad item date
      EndOfLifePlan eol = example<EndOfLifePlan>("eol");
      eol.planned_review_date = "2026-02-30";
      add(eol);
    }
    for (const auto& [round_trip, check] : cases) {
      CHECK(round_trip != "");
      CHECK(check == round_trip);
    }
  }
}

}  // namespace midhurst::care
