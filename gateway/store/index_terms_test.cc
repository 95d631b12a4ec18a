// Backend-neutral helpers: text normalisation, date ranges, search terms, cursors.
#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

#include "store/cursor.h"
#include "store/index_terms.h"
#include "store/time_range.h"

namespace midhurst::store {

TEST_CASE("terms: normalise_text folds case and Latin accents", "[terms]") {
  CHECK(normalise_text("Zoë Ó Súilleabháin") == "zoe o suilleabhain");
  CHECK(normalise_text("STRAßE") == "strasse");
  CHECK(normalise_text("Łukasz Żółć") == "lukasz zolc");
  CHECK(normalise_text("O'Brien-Smith") == "o'brien-smith");
  CHECK(normalise_text("日本") == "日本");  // untouched
}

TEST_CASE("terms: prefix_successor bounds a prefix range", "[terms]") {
  CHECK(prefix_successor("smi") == "smj");
  CHECK(prefix_successor(std::string("a\xff", 2)) == "b");
  CHECK(prefix_successor("") == "");
}

TEST_CASE("terms: dates and dateTimes become instant ranges", "[terms]") {
  auto r = date_range("1950");
  REQUIRE(r);
  CHECK(r->lo == "1950-01-01T00:00:00.000Z");
  CHECK(r->hi == "1950-12-31T23:59:59.999Z");
  r = date_range("2024-02");
  REQUIRE(r);
  CHECK(r->hi == "2024-02-29T23:59:59.999Z");
  r = date_range("2024-03-01T00:30+01:00");
  REQUIRE(r);
  CHECK(r->lo == "2024-02-29T23:30:00.000Z");
  CHECK(r->hi == "2024-02-29T23:30:59.999Z");
  r = date_range("2024-03-01T10:00:00.5Z");
  REQUIRE(r);
  CHECK(r->lo == "2024-03-01T10:00:00.500Z");
  CHECK(r->hi == "2024-03-01T10:00:00.599Z");
  for (const char* bad : {"", "19", "1950-13", "2023-02-29", "2024-03-01T10:00", "2024-03-01T25:00Z",
                          "2024-03-01T10:00:00Zjunk", "2024-03-01 10:00Z"})
    CHECK_FALSE(date_range(bad));
}

TEST_CASE("terms: an EoL plan indexes its patient and its coded items", "[terms]") {
  care::EndOfLifePlan p;
  p.patient = care::Reference{care::EntityType::kPatient, "p1", std::nullopt, ""};
  p.created_at = "2024-01-01";
  p.cpr_decision = care::CprDecision{};
  p.cpr_decision->decision = care::CprDecisionCode::kDnacpr;
  p.primary_diagnosis = care::Diagnosis{};
  p.primary_diagnosis->code.codings.push_back(care::Coding{"http://snomed.info/sct", "254637007", ""});
  IndexTerms t = extract_terms(AnyEntity(p));
  REQUIRE(t.refs.size() == 1);
  CHECK(t.refs[0].param == "patient");
  CHECK(t.refs[0].target_id == "p1");
  bool cpr = false, dx = false;
  for (const auto& tok : t.tokens) {
    cpr |= tok.param == "cpr-decision" && tok.code == "dnacpr";
    dx |= tok.param == "diagnosis" && tok.system == "http://snomed.info/sct" && tok.code == "254637007";
  }
  CHECK(cpr);
  CHECK(dx);
  REQUIRE(t.dates.size() == 1);
  CHECK(t.dates[0].param == "date");
}

TEST_CASE("terms: cursors round-trip and reject garbage", "[terms]") {
  SearchCursor c{SortOrder::kLastUpdatedDesc, true, "2024-03-01T10:00:00.000Z", "id.with-odd\x01"};
  auto d = decode_cursor(encode_cursor(c));
  REQUIRE(d);
  CHECK(d->sort == c.sort);
  CHECK(d->before);
  CHECK(d->key == c.key);
  CHECK(d->id == c.id);
  for (const char* bad : {"", "s1.", "s1.9.n.00.61", "s1.0.x.00.61", "s1.0.n.0g.61", "s1.0.n..", "h1.5"})
    CHECK_FALSE(decode_cursor(bad));
  CHECK(decode_history_cursor(encode_history_cursor(42)) == 42);
  CHECK_FALSE(decode_history_cursor("h1.-3"));
  CHECK_FALSE(decode_history_cursor("h1.3x"));
}

}  // namespace midhurst::store

namespace midhurst::store {

TEST_CASE("terms: an end-of-life plan lists its items by care path", "[terms]") {
  care::EndOfLifePlan p;
  p.id = "eol1";
  p.created_at = "2024-01-01T00:00:00Z";
  p.carer = care::CarerStatus{};
  p.preferred_place_of_death.resize(2);
  p.death = care::Death{};
  p.death->actual_place = care::PlaceChoice{};
  std::vector<std::string> items;
  for (const auto& t : extract_terms(AnyEntity(p)).tokens)
    if (t.param == kItemParam) items.push_back(t.code);
  std::sort(items.begin(), items.end());
  CHECK(items == std::vector<std::string>{"carer", "death", "death.actualPlace", "preferredPlaceOfDeath[0]",
                                          "preferredPlaceOfDeath[1]"});
  // Every listed item is one item_indexed knows, and nothing else is.
  for (const auto& i : items) CHECK(item_indexed(care::EntityType::kEndOfLifePlan, i));
  CHECK(item_indexed(care::EntityType::kEndOfLifePlan, "preferredPlaceOfDeath[12]"));
  CHECK_FALSE(item_indexed(care::EntityType::kEndOfLifePlan, "preferredPlaceOfDeath[]"));
  CHECK_FALSE(item_indexed(care::EntityType::kEndOfLifePlan, "wishes[0]"));
  CHECK_FALSE(item_indexed(care::EntityType::kReferral, "carer"));
}

TEST_CASE("terms: value_param names the token holding a care path's value", "[terms]") {
  care::Referral r;
  r.id = "r1";
  r.recipient_status = care::RecipientStatus::kAccepted;
  r.status = care::ReferralStatus::kActive;
  const IndexTerms t = extract_terms(AnyEntity(r));
  auto has = [&](std::string_view param, std::string_view code) {
    for (const auto& x : t.tokens)
      if (x.param == param && x.code == code) return true;
    return false;
  };
  CHECK(value_param(care::EntityType::kReferral, "recipientStatus") == "recipient-status");
  CHECK(has(value_param(care::EntityType::kReferral, "recipientStatus"), "accepted"));
  CHECK(has(value_param(care::EntityType::kReferral, "status"), "active"));
  CHECK(value_param(care::EntityType::kEncounter, "class") == "class");
  CHECK(value_param(care::EntityType::kEndOfLifePlan, "cprDecision.decision") == "cpr-decision");
  CHECK(value_param(care::EntityType::kEndOfLifePlan, "cprDecision.recorded.status").empty());
}

}  // namespace midhurst::store

namespace midhurst::store {

TEST_CASE("terms: each end-of-life item's recorded status, and its absence, are indexed under the item",
          "[terms]") {
  care::EndOfLifePlan p;
  p.id = "eol1";
  p.created_at = "2024-01-01T00:00:00Z";
  p.cpr_decision = care::CprDecision{};
  p.cpr_decision->recorded = care::Recorded{};
  p.cpr_decision->recorded->status = care::RecordStatus::kEnteredInError;
  p.adrt = care::Adrt{};  // no recorded status: the profile's default applies
  p.preferred_place_of_death.resize(1);
  p.preferred_place_of_death[0].recorded = care::Recorded{};
  p.preferred_place_of_death[0].recorded->status = care::RecordStatus::kInactive;
  std::set<std::string> statuses;
  for (const auto& t : extract_terms(AnyEntity(p)).tokens)
    if (t.param == "record-status") statuses.insert(t.system + "|" + t.code);
  CHECK(statuses == std::set<std::string>{"adrt|" + std::string(kAbsentCode), "cprDecision|entered-in-error",
                                          "preferredPlaceOfDeath[0]|inactive"});

  auto status = value_term(care::EntityType::kEndOfLifePlan, "cprDecision.recorded.status");
  REQUIRE(status.has_value());
  CHECK(status->param == "record-status");
  CHECK(status->system == "cprDecision");
  CHECK(status->absent_indexed);
  CHECK(status->domain == std::vector<std::string>{"active", "inactive", "entered-in-error"});
  auto ppd = value_term(care::EntityType::kEndOfLifePlan, "preferredPlaceOfDeath[1].recorded.status");
  REQUIRE(ppd.has_value());
  CHECK(ppd->system == "preferredPlaceOfDeath[1]");
  CHECK_FALSE(value_term(care::EntityType::kEndOfLifePlan, "wishes[0].recorded.status").has_value());
  CHECK_FALSE(value_term(care::EntityType::kReferral, "cprDecision.recorded.status").has_value());
  // Booleans the profiles' conditions test, and required enums: nothing absent to tell apart.
  auto reg = value_term(care::EntityType::kEndOfLifePlan, "eolRegister.onRegister");
  REQUIRE(reg.has_value());
  CHECK(reg->param == "eol-register");
  CHECK(reg->domain == std::vector<std::string>{"true", "false"});
  CHECK(value_term(care::EntityType::kEndOfLifePlan, "cprDecision.decision")->absent_indexed);
  CHECK_FALSE(value_term(care::EntityType::kEndOfLifePlan, "prognosis.category")->absent_indexed);
}

TEST_CASE("terms: a referral without a recipient status says so (Task.status is then the default)", "[terms]") {
  care::Referral r;
  r.id = "r1";
  r.status = care::ReferralStatus::kActive;
  std::vector<std::string> codes;
  for (const auto& t : extract_terms(AnyEntity(r)).tokens)
    if (t.param == "recipient-status") codes.push_back(t.code);
  CHECK(codes == std::vector<std::string>{std::string(kAbsentCode)});
  auto term = value_term(care::EntityType::kReferral, "recipientStatus");
  REQUIRE(term.has_value());
  CHECK(term->absent_indexed);
  CHECK(term->domain.size() == 7);
}

}  // namespace midhurst::store
