// `midhurst translate` and `midhurst profile test`: the mapping profiles on files, no server.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/commands.h"
#include "hl7v2/batch.h"
#include "hl7v2/message.h"
#include "mapping/engine.h"
#include "mapping/fhir_engine.h"
#include "mapping/fixtures.h"
#include "mapping/issue.h"
#include "mapping/profile.h"

namespace midhurst::cli {
namespace {

constexpr const char* kTranslateUsage =
    "usage: midhurst translate [--mappings DIR] [--profile NAME] [--to care|fhir] [--report] FILE|-\n"
    "\n"
    "Maps each HL7v2 message in FILE ('-' reads standard input; batch files and files of several\n"
    "messages too) through the mapping profiles and prints the result as JSON: one object for a\n"
    "single message, an array for several.\n"
    "\n"
    "options:\n"
    "  --mappings DIR   the profile directory (default: $MIDHURST_MAPPINGS, else ./mappings)\n"
    "  --profile NAME   use this profile instead of selecting one by its match rules\n"
    "  --to fhir        a FHIR R4 transaction Bundle (UK Core) whose entries are conditional on\n"
    "                   business identifiers (NHS number, ODS code, GMP code), so posting it\n"
    "                   twice creates nothing twice (the default)\n"
    "  --to care        the canonical care model record\n"
    "  --report         print the whole translation: the record, every issue, and the field\n"
    "                   ledger saying of each populated field whether a rule mapped it, the\n"
    "                   profile ignored it, or nothing read it\n"
    "\n"
    "A message that cannot be translated (bad NHS number, impossible birth date, broken MSH, no\n"
    "matching profile) makes the exit status 1, and an OperationOutcome naming the field and the\n"
    "reason is printed on standard error. Exit status 2: bad usage or profiles that do not load.\n";

constexpr const char* kProfileUsage =
    "usage: midhurst profile test [--mappings DIR] [--update] [FIXTURE_DIR]\n"
    "\n"
    "Loads the mapping profiles (refusing a bad set with file:line:column: reason) and runs every\n"
    "fixture under FIXTURE_DIR (default: the mappings directory): each NAME.hl7 is translated and\n"
    "compared with NAME.expected.json beside it. Prints one PASS/FAIL line per fixture, with a\n"
    "diff on failure.\n"
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

int translate(const Args& args) {
  std::string mappings = default_mappings_dir(), profile_name, to = "fhir", file;
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
    else if (a == "--report") report = true;
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
  if (to != "care" && to != "fhir") {
    std::fprintf(stderr, "midhurst translate: --to %s is not available (care or fhir; HL7v2 output comes with "
                 "the care→hl7v2 profiles)\n", to.c_str());
    return 2;
  }
  auto profiles = load_profiles(mappings);
  if (!profiles) return 2;
  const mapping::Profile* forced = nullptr;
  if (!profile_name.empty()) {
    for (const auto& p : profiles->profiles())
      if (p->name == profile_name && p->direction == mapping::Direction::kHl7v2ToCare) forced = p.get();
    if (!forced) {
      std::fprintf(stderr, "midhurst translate: no profile named '%s' in %s\n", profile_name.c_str(),
                   mappings.c_str());
      return 2;
    }
  }

  std::string bytes;
  if (!read_all(file, &bytes)) {
    std::fprintf(stderr, "midhurst translate: cannot read %s\n", file.c_str());
    return 2;
  }
  std::string_view body = hl7v2::skip_bom(bytes);
  while (!body.empty() && (body.front() == '\r' || body.front() == '\n' || body.front() == ' ')) body.remove_prefix(1);
  if (!(body.starts_with("MSH") || body.starts_with("FHS") || body.starts_with("BHS"))) {
    std::fprintf(stderr,
                 "midhurst translate: %s is not HL7v2 (FHIR JSON and XML input come with the fhir→care "
                 "profiles)\n",
                 file.c_str());
    return 2;
  }

  hl7v2::BatchFile batch = hl7v2::split_batch(bytes);
  bool failed = false;
  for (const hl7v2::Issue& issue : batch.issues) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(), issue.to_string().c_str());
    failed |= issue.severity == hl7v2::Severity::kError;
  }
  const auto spans = batch.messages();
  std::string out = spans.size() == 1 ? "" : "[\n";
  for (size_t k = 0; k < spans.size(); ++k) {
    auto message = hl7v2::Message::parse(std::string(spans[k].bytes));
    mapping::Translation t;
    if (!message.ok()) {
      mapping::MappingIssue issue;
      issue.issue = message.error();
      t.issues.push_back(issue);
    } else {
      t = forced ? mapping::translate_with(*forced, *message) : mapping::translate(*profiles, *message);
    }
    if (!t.accepted) {
      failed = true;
      std::fprintf(stderr, "%s: message %zu (line %u) cannot be translated:\n%s\n", file.c_str(), k + 1,
                   spans[k].line, mapping::operation_outcome_json(t.issues).c_str());
    }
    if (k) out += ",\n";
    if (to == "fhir" && t.accepted) {
      auto fhir = mapping::translate_to_fhir(t.record, *profiles);
      if (!fhir.ok()) {
        failed = true;
        std::fprintf(stderr, "%s: message %zu (line %u) cannot be rendered as FHIR:\n%s\n", file.c_str(), k + 1,
                     spans[k].line, mapping::operation_outcome_json(fhir.error()).c_str());
        out += "null";
        continue;
      }
      for (const mapping::MappingIssue& i : fhir->issues)
        std::fprintf(stderr, "%s: message %zu: %s\n", file.c_str(), k + 1, i.to_string().c_str());
      out += fhir->to_json(true);
      if (report) out += ",\n" + mapping::translation_to_json(t, true);
      continue;
    }
    out += report ? mapping::translation_to_json(t, true) : t.record.to_json(true);
  }
  if (spans.size() != 1) out += "\n]";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fputc('\n', stdout);
  return failed ? 1 : 0;
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
