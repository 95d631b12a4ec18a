// One named test per kind of profile mistake, each asserting the file, line, column and reason.
#include <catch2/catch.hpp>

#include "mapping/profile.h"

using namespace midhurst::mapping;

namespace {

const char* kSexMap = R"({"resourceType": "ConceptMap", "url": "urn:sex", "group": [
 {"source": "s", "target": "t", "element": [{"code": "M", "target": [{"code": "male", "equivalence": "equivalent"}]},
                                            {"code": "F", "target": [{"code": "female", "equivalence": "equivalent"}]}]}]})";

// A valid profile with `rules` spliced in (each rule on its own line from line 5).
std::string profile(const std::string& rules, const std::string& extra = "") {
  return "{\"name\": \"p\", \"version\": \"1\", \"direction\": \"hl7v2->care\",\n"
         "  \"match\": {\"path\": \"MSH-9.1\", \"equals\": \"ADT\"}," + extra + "\n"
         "  \"rules\": [\n"
         "    {\"id\": \"base\", \"source\": \"PID-7.1\", \"target\": \"patient.birthDate\", \"transform\": [\"date\"]}\n" +
         rules + "\n  ]\n}\n";
}

LoadErrors load_errors(std::vector<ProfileSet::SourceFile> files) {
  auto r = ProfileSet::load(files, {{"concepts/sex.json", kSexMap}});
  if (r.ok()) return {};
  return r.error();
}

LoadError only_error(const std::string& text) {
  LoadErrors e = load_errors({{"p.json", text}});
  REQUIRE(e.size() == 1);
  return e[0];
}

}  // namespace

TEST_CASE("a good profile loads", "[loader]") {
  CHECK(load_errors({{"p.json", profile(R"(    ,{"id": "g", "source": "PID-8", "target": "patient.gender", "conceptMap": "sex"})")}}).empty());
}

TEST_CASE("loader: JSON syntax error", "[loader]") {
  const LoadError e = only_error("{\"name\": \"p\",\n  \"version\" \"1\"}");
  CHECK(e.file == "p.json");
  CHECK(e.line == 2);
  CHECK(e.column == 13);
  CHECK(e.reason.rfind("JSON syntax: ", 0) == 0);
}

TEST_CASE("loader: unknown key in a rule", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "PID-5.1", "target": "patient.names[].family", "tranform": ["trim"]})"));
  CHECK(e.line == 5);
  CHECK(e.column == 75);
  CHECK(e.reason.rfind("unknown key 'tranform' in a rule", 0) == 0);
}

TEST_CASE("loader: unknown key in a profile", "[loader]") {
  const LoadError e = only_error(profile("", " \"timezon\": \"UTC\","));
  CHECK(e.line == 2);
  CHECK(e.column == 50);
  CHECK(e.reason.rfind("unknown key 'timezon' in a profile", 0) == 0);
}

TEST_CASE("loader: malformed v2 source path", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "PID-3[x].1", "target": "patient.names[].family"})"));
  CHECK(e.line == 5);
  CHECK(e.column == 35);  // the 'x' inside the path
  CHECK(e.reason == "bad source path 'PID-3[x].1': a repetition must be a number from 1 or '*'");
}

TEST_CASE("loader: relative source path outside a group", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": ".1", "target": "patient.names[].family"})"));
  CHECK(e.line == 5);
  CHECK(e.column == 29);
  CHECK(e.reason.find("needs a field context") != std::string::npos);
}

TEST_CASE("loader: target that is not in the care model", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "PID-5.1", "target": "patient.names[].surname"})"));
  CHECK(e.line == 5);
  CHECK(e.column == 66);  // 'surname' inside the target string
  CHECK(e.reason.find("unknown field 'surname' in HumanName") != std::string::npos);
}

TEST_CASE("loader: target whose type does not fit", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "PID-29", "target": "patient.deceasedAt"})"));
  CHECK(e.line == 5);
  CHECK(e.column == 49);
  CHECK(e.reason == "target 'patient.deceasedAt' is dateTime; convert the value with the \"dateTime\" transform (it is text)");
  const LoadError enum_error = only_error(profile(R"(    ,{"id": "x", "source": "PID-8", "target": "patient.gender"})"));
  CHECK(enum_error.reason.find("translate the source with a 'conceptMap'") != std::string::npos);
}

TEST_CASE("loader: iterating source into a single-valued target", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "PID-3[*].1", "target": "patient.birthDate", "transform": ["date"]})"));
  CHECK(e.reason.find("holds one; append with '[]' or use a group") != std::string::npos);
}

TEST_CASE("loader: ConceptMap whose codes the enum target does not allow", "[loader]") {
  const char* bad_map = R"({"resourceType": "ConceptMap", "group": [{"element": [{"code": "M", "target": [{"code": "man"}]}]}]})";
  auto r = ProfileSet::load({{"p.json", profile(R"(    ,{"id": "g", "source": "PID-8", "target": "patient.gender", "conceptMap": "bad"})")}},
                            {{"concepts/bad.json", bad_map}});
  REQUIRE(!r.ok());
  REQUIRE(r.error().size() == 1);
  CHECK(r.error()[0].reason.find("does not allow: man") != std::string::npos);
}

TEST_CASE("loader: missing ConceptMap", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "g", "source": "PID-8", "target": "patient.gender", "conceptMap": "sexx"})"));
  CHECK(e.line == 5);
  CHECK(e.column == 80);
  CHECK(e.reason == "no ConceptMap 'sexx' in concepts/ (by file name or url)");
}

TEST_CASE("loader: unknown transform", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "PID-5.1", "target": "patient.names[].family", "transform": ["trim", "uper"]})"));
  CHECK(e.line == 5);
  CHECK(e.column == 97);
  CHECK(e.reason.rfind("unknown transform 'uper' (known: trim, upper,", 0) == 0);
}

TEST_CASE("loader: transform applied to a value of the wrong kind", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "PID-7", "target": "patient.birthDate", "transform": ["date", "upper"]})"));
  CHECK(e.reason == "'upper' needs text, but the value is already date at this step");
}

TEST_CASE("loader: rule id clash", "[loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "base", "source": "PID-5.1", "target": "patient.names[].family"})"));
  CHECK(e.line == 5);
  CHECK(e.column == 14);
  CHECK(e.reason == "rule id 'base' is already used at line 4 of this file");
}

TEST_CASE("loader: extends a missing base", "[loader]") {
  const LoadError e = only_error(
      "{\"name\": \"site\", \"version\": \"1\", \"direction\": \"hl7v2→care\",\n \"extends\": \"nowhere\", \"rules\": []}");
  CHECK(e.line == 2);
  CHECK(e.column == 14);
  CHECK(e.reason == "extends 'nowhere': no profile has that name");
}

TEST_CASE("loader: extends cycle", "[loader]") {
  LoadErrors e = load_errors({{"a.json", "{\"name\": \"a\", \"version\": \"1\", \"direction\": \"hl7v2→care\", \"extends\": \"b\", \"rules\": []}"},
                              {"b.json", "{\"name\": \"b\", \"version\": \"1\", \"direction\": \"hl7v2→care\", \"extends\": \"a\", \"rules\": []}"}});
  REQUIRE(!e.empty());
  bool cycle = false;
  for (const LoadError& x : e)
    if (x.reason.find("makes a cycle") != std::string::npos) {
      cycle = true;
      CHECK(x.line == 1);
      CHECK(x.column == 70);
    }
  CHECK(cycle);
}

TEST_CASE("loader: remove of a rule the base does not have", "[loader]") {
  LoadErrors e = load_errors({{"base.json", profile("")},
                              {"site.json", "{\"name\": \"site\", \"version\": \"1\", \"direction\": \"hl7v2→care\", \"extends\": \"p\",\n \"remove\": [\"nope\"]}"}});
  REQUIRE(e.size() == 1);
  CHECK(e[0].file == "site.json");
  CHECK(e[0].line == 2);
  CHECK(e[0].column == 14);
  CHECK(e[0].reason == "remove 'nope': the base profile 'p' has no rule with that id");
}

TEST_CASE("loader: unknown time zone", "[loader]") {
  const LoadError e = only_error(profile("", " \"timezone\": \"Europe/Londres\","));
  CHECK(e.line == 2);
  CHECK(e.column == 63);
  CHECK(e.reason.rfind("unknown time zone 'Europe/Londres'", 0) == 0);
}

TEST_CASE("loader: bad direction and missing fields", "[loader]") {
  const LoadError e = only_error("{\"name\": \"p\", \"version\": \"1\", \"direction\": \"v2 to care\", \"rules\": []}");
  CHECK(e.column == 45);
  CHECK(e.reason.rfind("unknown direction 'v2 to care'", 0) == 0);
  const LoadError later = only_error("{\"name\": \"p\", \"version\": \"1\", \"direction\": \"care->hl7v2\", \"match\": [], \"rules\": []}");
  CHECK(later.reason.find("needs 'message'") != std::string::npos);
}

TEST_CASE("loader: bad ConceptMap file", "[loader]") {
  auto r = ProfileSet::load({}, {{"concepts/x.json", "{\"resourceType\": \"ValueSet\"}"}});
  REQUIRE(!r.ok());
  CHECK(r.error()[0].to_string() == "concepts/x.json:1:19: expected \"resourceType\": \"ConceptMap\"");
}

TEST_CASE("loader: every error of a set is reported at once", "[loader]") {
  LoadErrors e = load_errors({{"p.json", profile(R"(    ,{"id": "x", "source": "PID-", "target": "patient.nope"})")}});
  CHECK(e.size() == 2);
}

TEST_CASE("a profile set loads atomically: a bad reload keeps the previous set", "[loader]") {
  ProfileStore store;
  auto good = ProfileSet::load({{"p.json", profile("")}}, {});
  REQUIRE(good.ok());
  store.replace(*good);
  auto before = store.current();
  auto bad = store.reload("/nonexistent-mappings-dir");
  CHECK(!bad.ok());
  CHECK(store.current() == before);
  auto real = store.reload(MIDHURST_MAPPINGS_DIR);
  INFO((real.ok() ? std::string() : real.error()[0].to_string()));
  CHECK(real.ok());
  CHECK(store.current() != before);
  CHECK(store.current()->find("adt-patient") != nullptr);
}

TEST_CASE("extends: a site profile overrides, removes and adds rules by id", "[loader]") {
  const std::string site =
      "{\"name\": \"site\", \"version\": \"2\", \"direction\": \"hl7v2→care\", \"extends\": \"p\",\n"
      " \"remove\": [\"g\"],\n"
      " \"rules\": [{\"id\": \"base\", \"source\": \"PID-29.1\", \"target\": \"patient.birthDate\", \"transform\": [\"date\"]},\n"
      "           {\"id\": \"extra\", \"source\": \"PID-30\", \"target\": \"patient.deceased\", \"transform\": [\"boolean\"]}]}";
  auto r = ProfileSet::load({{"base.json", profile(R"(    ,{"id": "g", "source": "PID-8", "target": "patient.gender", "conceptMap": "sex"})")},
                             {"site.json", site}},
                            {{"concepts/sex.json", kSexMap}});
  REQUIRE(r.ok());
  const Profile* p = (*r)->find("site");
  REQUIRE(p);
  CHECK(p->base == (*r)->find("p"));
  CHECK(p->depth == 1);
  REQUIRE(p->rules.size() == 2);
  CHECK(p->rules[0].id == "base");
  CHECK(p->rules[0].source->text() == "PID-29.1");  // overridden in place
  CHECK(p->rules[0].file == "site.json");
  CHECK(p->rules[1].id == "extra");
  CHECK(p->match.has_value());  // inherited
  CHECK((*r)->find("p")->rules.size() == 2);  // the base is untouched
}
