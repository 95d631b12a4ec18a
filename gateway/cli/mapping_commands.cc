// `midhurst translate` and `midhurst profile test`: the mapping profiles on files, no server.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "cli/commands.h"
#include "hl7v2/batch.h"
#include "hl7v2/message.h"
#include "fhir/xml.h"
#include "mapping/care_v2_engine.h"
#include "mapping/engine.h"
#include "mapping/fhir_care_engine.h"
#include "mapping/fhir_care_fixtures.h"
#include "mapping/fhir_engine.h"
#include "mapping/fixtures.h"
#include "mapping/issue.h"
#include "mapping/profile.h"

namespace midhurst::cli {
namespace {

constexpr const char* kTranslateUsage =
    "usage: midhurst translate [--mappings DIR] [--profile NAME] [--to fhir|care|hl7v2]\n"
    "                          [--format json|xml] [--report] [--sender NAME] [--sender-ods CODE]\n"
    "                          FILE|-\n"
    "\n"
    "Translates FILE ('-' reads standard input) through the mapping profiles. The input is\n"
    "recognised by its first bytes: HL7v2 (MSH, or an FHS/BHS batch; a file of several messages\n"
    "gives a JSON array with one result per message), FHIR JSON ('{': a resource or a Bundle,\n"
    "whose entries are mapped together into one record), or FHIR XML ('<').\n"
    "\n"
    "options:\n"
    "  --mappings DIR   the profile directory (default: $MIDHURST_MAPPINGS, else ./mappings)\n"
    "  --profile NAME   use this profile (of the input's direction, hl7v2→care or fhir→care, or\n"
    "                   of the output's, care→fhir or care→hl7v2) instead of the default choice\n"
    "  --to fhir        a FHIR R4 transaction Bundle (UK Core) whose entries are conditional on\n"
    "                   business identifiers (NHS number, ODS code, GMP code), so posting it\n"
    "                   twice creates nothing twice (the default)\n"
    "  --to care        the canonical care model record\n"
    "  --to hl7v2       an HL7v2 message per input (REF^I12 for a referral, ADT^A08 for a\n"
    "                   patient in a visit, else ADT^A31, with the end-of-life items, as the\n"
    "                   care→hl7v2 profiles choose; --profile care-adt-a31 forces one), built\n"
    "                   through the care record, one segment per line; HL7v2 in: normalised\n"
    "  --format xml     FHIR output (the Bundle, and the OperationOutcome of a failure) as XML\n"
    "  --report         print the whole translation: the record, every issue, and the field\n"
    "                   ledger saying of each populated field (or FHIR element) whether a rule\n"
    "                   mapped it, the profile ignored it, or nothing read it\n"    "  --sender NAME, --sender-ods CODE\n"
    "                   FHIR input: the sending system and its organisation's ODS code, for the\n"
    "                   record's Provenance where the input names neither (its own Provenance's\n"
    "                   agent, else meta.source, come first); HL7v2 input names its own in MSH-3/4\n"
    "\n"
    "An input that cannot be translated (bad NHS number, impossible birth date, broken MSH, no\n"
    "matching profile) makes the exit status 1, and an OperationOutcome naming the field and the\n"
    "reason is printed on standard error. Exit status 2: bad usage or profiles that do not load.\n";

constexpr const char* kProfileUsage =
    "usage: midhurst profile test [--mappings DIR] [--update] [FIXTURE_DIR]\n"
    "\n"
    "Loads the mapping profiles (refusing a bad set with file:line:column: reason) and runs every\n"
    "fixture under FIXTURE_DIR (default: the mappings directory), each input compared with the\n"
    "expected result beside it: NAME.hl7 with NAME.json (hl7v2→care), NAME.care.json with\n"
    "NAME.fhir.json (care→fhir), NAME.fhir-in.json with NAME.care-out.json (fhir→care),\n"
    "NAME.care-in.json with NAME.v2-out.json (care→hl7v2). Prints one PASS/FAIL line per\n"
    "fixture, with a diff on failure.\n"
    "\n"
    "options:\n"
    "  --mappings DIR   the profile directory (default: $MIDHURST_MAPPINGS, else ./mappings)\n"
    "  --update         rewrite the expected files from the actual results (review the diff!)\n"
    "\n"
    "exit status: 0 all fixtures pass, 1 a fixture fails, 2 bad usage or profiles that do not load.\n";

std::string default_mappings_dir() {
  const char* env = std::getenv("MIDHURST_MAPPINGS");
  return env && *env ? env : "mappings";
}

std::shared_ptr<const mapping::ProfileSet> load_profiles(const std::string& dir) {
  auto set = mapping::ProfileSet::load_dir(dir);
  if (!set.ok()) {
    std::fprintf(stderr, "midhurst: the mapping profiles in %s do not load:\n", dir.c_str());
    for (const mapping::LoadError& e : set.error()) std::fprintf(stderr, "  %s\n", e.to_string().c_str());
    return nullptr;
  }
  return *set;
}

bool read_all(const std::string& name, std::string* out) {
  if (name == "-") {
    out->assign(std::istreambuf_iterator<char>(std::cin), {});
    return true;
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), {});
  return !in.bad();
}

enum class InputKind { kHl7v2, kFhirJson, kFhirXml, kUnknown };

InputKind detect(std::string_view bytes) {
  std::string_view body = hl7v2::skip_bom(bytes);
  while (!body.empty() && (body.front() == '\r' || body.front() == '\n' || body.front() == ' ' || body.front() == '\t'))
    body.remove_prefix(1);
  if (body.starts_with("MSH") || body.starts_with("FHS") || body.starts_with("BHS")) return InputKind::kHl7v2;
  if (body.starts_with("{")) return InputKind::kFhirJson;
  if (body.starts_with("<")) return InputKind::kFhirXml;
  return InputKind::kUnknown;
}

// One input unit (a message, or a FHIR resource/Bundle) on its way to the output.
struct Unit {
  std::string label;  // "message 2 (line 14)" or "" for a single FHIR input
  mapping::Translation translation;
  // HL7v2 in, HL7v2 out: the sender, receiver and time of the original MSH are kept.
  std::optional<mapping::V2BuildOptions> header;
};

class Translator {
 public:
  Translator(const mapping::ProfileSet& set, std::string file, std::string to, bool xml, bool report)
      : set_(set), file_(std::move(file)), to_(std::move(to)), xml_(xml), report_(report) {}

  std::string out_profile;  // care→fhir / care→hl7v2 profile forced by --profile
  bool failed = false;

  // An OperationOutcome on standard error, as XML with --format xml when it can be.
  void outcome(const std::string& what, const mapping::MappingIssues& issues) {
    failed = true;
    std::string text = mapping::operation_outcome_json(issues);
    if (xml_) {
      if (auto x = as_xml(text)) text = *x;
    }
    std::fprintf(stderr, "%s: %s:\n%s\n", file_.c_str(), what.c_str(), text.c_str());
  }

  // The output for one unit ("null" when there is none).
  std::string render(const Unit& u, std::size_t index) {
    const mapping::Translation& t = u.translation;
    const std::string where = u.label.empty() ? "the input" : u.label;
    if (!t.accepted) outcome(where + " cannot be translated", t.issues);
    if (to_ == "fhir" && t.accepted) {
      mapping::FhirTranslateOptions o;
      o.profile = out_profile;
      auto fhir = mapping::translate_to_fhir(t.record, set_, o);
      if (!fhir.ok()) {
        outcome(where + " cannot be rendered as FHIR", fhir.error());
        return "null";
      }
      for (const mapping::MappingIssue& i : fhir->issues)
        std::fprintf(stderr, "%s: %s: %s\n", file_.c_str(), where.c_str(), i.to_string().c_str());
      std::string out = fhir->to_json(true);
      if (xml_) {
        auto x = as_xml(out);
        if (!x) return "null";
        out = *x;
      }
      if (report_) out += ",\n" + mapping::translation_to_json(t, true);
      return out;
    }
    if (to_ == "hl7v2" && t.accepted) {
      mapping::V2BuildOptions o = u.header ? *u.header : mapping::fixture_v2_options();
      o.profile = out_profile;
      if (!u.header) o.timestamp.clear();  // now
      const care::Provenance* p = t.record.get<care::Provenance>();
      o.control_id = p && !p->message_id.empty() ? p->message_id : "MIDHURST" + std::to_string(index + 1);
      auto v2 = mapping::translate_to_hl7v2(t.record, set_, o);
      if (!v2.ok()) {
        outcome(where + " cannot be rendered as HL7v2", v2.error());
        return "";
      }
      for (const mapping::MappingIssue& i : v2->issues)
        std::fprintf(stderr, "%s: %s: %s\n", file_.c_str(), where.c_str(), i.to_string().c_str());
      std::string out = v2->message.encode('\n');
      if (report_) out += mapping::translation_to_json(t, true) + "\n";
      return out;
    }
    return report_ ? mapping::translation_to_json(t, true) : t.record.to_json(true);
  }

 private:
  std::optional<std::string> as_xml(const std::string& json) {
    if (!set_.fhir_model()) {
      std::fprintf(stderr, "%s: XML needs the FHIR model, which no loaded profile uses\n", file_.c_str());
      failed = true;
      return std::nullopt;
    }
    rapidjson::Document d;
    d.Parse(json.c_str(), json.size());
    auto x = fhir::json_to_xml(d, *set_.fhir_model());
    if (!x.ok()) {
      std::fprintf(stderr, "%s: cannot write XML: %s\n", file_.c_str(), x.error().to_string().c_str());
      failed = true;
      return std::nullopt;
    }
    return *x;
  }

  const mapping::ProfileSet& set_;
  std::string file_, to_;
  bool xml_, report_;
};

mapping::Translation input_failure(hl7v2::ErrorCode code, std::string why) {
  mapping::Translation t;
  mapping::MappingIssue i;
  i.issue.severity = hl7v2::Severity::kError;
  i.issue.code = code;
  i.issue.why = std::move(why);
  t.issues.push_back(std::move(i));
  return t;
}

int translate(const Args& args) {
  std::string mappings = default_mappings_dir(), profile_name, to = "fhir", format = "json", file;
  care::SourceSystem sender;  // --sender, --sender-ods: who sent a FHIR input that does not say
  bool report = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* into) {
      if (i + 1 >= args.size()) return false;
      *into = args[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kTranslateUsage, stdout);
      return 0;
    }
    bool ok = true;
    if (a == "--mappings") ok = value(&mappings);
    else if (a == "--profile") ok = value(&profile_name);
    else if (a == "--to") ok = value(&to);
    else if (a == "--format") ok = value(&format);
    else if (a == "--report") report = true;
    else if (a == "--sender") ok = value(&sender.application) && !sender.application.empty();
    else if (a == "--sender-ods")
      ok = value(&sender.organization_ods) && !sender.organization_ods.empty() &&
           std::all_of(sender.organization_ods.begin(), sender.organization_ods.end(),
                       [](unsigned char c) { return std::isalnum(c); });
    else if (a.size() > 1 && a[0] == '-') ok = false;
    else if (file.empty()) file = a;
    else ok = false;
    if (!ok) {
      std::fprintf(stderr, "midhurst translate: bad argument '%s'\n\n%s", a.c_str(), kTranslateUsage);
      return 2;
    }
  }
  if (file.empty()) {
    std::fputs(kTranslateUsage, stderr);
    return 2;
  }
  if (to != "care" && to != "fhir" && to != "hl7v2") {
    std::fprintf(stderr, "midhurst translate: --to %s is not one of fhir, care, hl7v2\n", to.c_str());
    return 2;
  }
  if (format != "json" && format != "xml") {
    std::fprintf(stderr, "midhurst translate: --format %s is not json or xml\n", format.c_str());
    return 2;
  }
  if (format == "xml" && to != "fhir") {
    std::fprintf(stderr, "midhurst translate: --format xml is for FHIR output (--to fhir)\n");
    return 2;
  }
  auto profiles = load_profiles(mappings);
  if (!profiles) return 2;
  const mapping::Profile* named = profile_name.empty() ? nullptr : profiles->find(profile_name);
  if (!profile_name.empty() && !named) {
    std::fprintf(stderr, "midhurst translate: no profile named '%s' in %s\n", profile_name.c_str(), mappings.c_str());
    return 2;
  }

  std::string bytes;
  if (!read_all(file, &bytes)) {
    std::fprintf(stderr, "midhurst translate: cannot read %s\n", file.c_str());
    return 2;
  }
  const InputKind kind = detect(bytes);
  if (kind == InputKind::kUnknown) {
    std::fprintf(stderr, "midhurst translate: %s is neither HL7v2 (MSH, FHS, BHS) nor FHIR JSON or XML\n", file.c_str());
    return 2;
  }
  const mapping::Direction in_direction =
      kind == InputKind::kHl7v2 ? mapping::Direction::kHl7v2ToCare : mapping::Direction::kFhirToCare;
  const mapping::Profile* in_profile = named && named->direction == in_direction ? named : nullptr;
  Translator tr(*profiles, file, to, format == "xml", report);
  if (named && !in_profile) {
    const mapping::Direction out_direction =
        to == "hl7v2" ? mapping::Direction::kCareToHl7v2 : mapping::Direction::kCareToFhir;
    if (named->direction != out_direction || to == "care") {
      std::fprintf(stderr, "midhurst translate: profile '%s' is %s, which this translation does not use\n",
                   profile_name.c_str(), mapping::direction_name(named->direction));
      return 2;
    }
    tr.out_profile = named->name;
  }

  std::vector<Unit> units;
  if (kind == InputKind::kHl7v2) {
    hl7v2::BatchFile batch = hl7v2::split_batch(bytes);
    for (const hl7v2::Issue& issue : batch.issues) {
      std::fprintf(stderr, "%s: %s\n", file.c_str(), issue.to_string().c_str());
      tr.failed |= issue.severity == hl7v2::Severity::kError;
    }
    const auto spans = batch.messages();
    for (size_t k = 0; k < spans.size(); ++k) {
      Unit u;
      u.label = "message " + std::to_string(k + 1) + " (line " + std::to_string(spans[k].line) + ")";
      auto message = hl7v2::Message::parse(std::string(spans[k].bytes));
      if (!message.ok()) {
        mapping::MappingIssue issue;
        issue.issue = message.error();
        u.translation.issues.push_back(issue);
      } else {
        // The field ledger is printed only by --report.
        const auto ledger = report ? mapping::LedgerDetail::kFull : mapping::LedgerDetail::kNone;
        u.translation = in_profile ? mapping::translate_with(*in_profile, *message, {}, ledger)
                                   : mapping::translate(*profiles, *message, {}, ledger);
        mapping::V2BuildOptions h;
        h.sending_application = message->text("MSH-3.1");
        h.sending_facility = message->text("MSH-4.1");
        h.receiving_application = message->text("MSH-5.1");
        h.receiving_facility = message->text("MSH-6.1");
        h.timestamp = message->text("MSH-7.1");
        u.header = h;
      }
      units.push_back(std::move(u));
    }
  } else {
    rapidjson::Document doc;
    Unit u;
    if (kind == InputKind::kFhirJson) {
      const std::string_view body = hl7v2::skip_bom(bytes);
      doc.Parse(body.data(), body.size());
      if (doc.HasParseError())
        u.translation = input_failure(hl7v2::ErrorCode::kDataType, "not valid JSON at byte " + std::to_string(doc.GetErrorOffset()));
    } else if (!profiles->fhir_model()) {
      u.translation = input_failure(hl7v2::ErrorCode::kApplicationInternalError, "FHIR XML needs the FHIR model, which no loaded profile uses");
    } else {
      auto d = fhir::xml_to_json(hl7v2::skip_bom(bytes), *profiles->fhir_model());
      if (!d.ok()) u.translation = input_failure(hl7v2::ErrorCode::kDataType, "FHIR XML: " + d.error().to_string());
      else doc = std::move(*d);
    }
    if (u.translation.issues.empty()) {
      mapping::FhirCareOptions o;
      if (in_profile) o.profile = in_profile->name;
      o.sender = sender;
      u.translation = mapping::translate_from_fhir(*profiles, doc, o);
    }
    units.push_back(std::move(u));
  }

  const bool array = units.size() != 1 && to != "hl7v2" && format == "json";
  std::string out = array ? "[\n" : "";
  for (size_t k = 0; k < units.size(); ++k) {
    if (k && array) out += ",\n";
    else if (k && to != "hl7v2") out += "\n";
    out += tr.render(units[k], k);
  }
  if (array) out += "\n]";
  if (to != "hl7v2") out += "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return tr.failed ? 1 : 0;
}

int profile_test(const Args& args) {
  std::string mappings = default_mappings_dir(), fixtures;
  bool update = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kProfileUsage, stdout);
      return 0;
    }
    if (a == "--mappings" && i + 1 < args.size()) mappings = args[++i];
    else if (a == "--update") update = true;
    else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "midhurst profile test: bad argument '%s'\n\n%s", a.c_str(), kProfileUsage);
      return 2;
    } else fixtures = a;
  }
  if (fixtures.empty()) fixtures = mappings;
  auto profiles = load_profiles(mappings);
  if (!profiles) return 2;
  auto results = mapping::run_fixtures(*profiles, fixtures, std::cout, update);
  size_t failed = 0;
  for (const auto& r : results) failed += !r.passed;
  if (results.empty()) {
    std::fprintf(stderr, "midhurst profile test: no fixtures found under %s\n", fixtures.c_str());
    return 1;
  }
  return failed ? 1 : 0;
}

}  // namespace

int run_translate(const Args& args) { return translate(args); }

int run_profile(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kProfileUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "test") return profile_test(Args(args.begin() + 1, args.end()));
  std::fprintf(stderr, "midhurst profile: unknown sub-command '%s'\n\n%s", args[0].c_str(), kProfileUsage);
  return 2;
}

}  // namespace midhurst::cli
