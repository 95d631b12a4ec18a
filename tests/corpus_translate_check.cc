// corpus_translate_check: every ADT and REF message of the shared corpus through
// hl7v2→care→fhir, each Bundle validated against the FHIR profiles (fhir/validator.h) and
// written to OUT_DIR for the official R4 JSON schema check (corpus_translate.sh runs both).
//
// usage: corpus_translate_check MAPPINGS_DIR PROFILES_DIR CORPUS_HL7V2_DIR OUT_DIR
// A message that is not ADT or REF, or is invalid, may fail to translate, but only with a clear
// reason (an error issue with a message); an ADT or REF message that fails is listed. Exit 0
// when every translated Bundle validates without errors and every failure says why.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fhir/profile_set.h"
#include "fhir/validator.h"
#include "hl7v2/batch.h"
#include "hl7v2/message.h"
#include "mapping/engine.h"
#include "mapping/fhir_engine.h"

namespace fs = std::filesystem;
using namespace midhurst;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: corpus_translate_check MAPPINGS_DIR PROFILES_DIR CORPUS_HL7V2_DIR OUT_DIR\n");
    return 2;
  }
  auto set = mapping::ProfileSet::load_dir(argv[1]);
  if (!set) {
    for (const auto& e : set.error()) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 2;
  }
  auto profiles = fhir::ProfileSet::load(argv[2]);
  if (!profiles) {
    std::fprintf(stderr, "profiles: %s\n", profiles.error().to_string().c_str());
    return 2;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(argv[3]))
    if (e.path().extension() == ".hl7") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  fs::create_directories(argv[4]);
  int bundles = 0, adt_ref = 0, refused = 0, problems = 0;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const hl7v2::BatchFile batch = hl7v2::split_batch(bytes);
    const auto spans = batch.messages();
    for (std::size_t k = 0; k < spans.size(); ++k) {
      const std::string name = f.filename().string() + " message " + std::to_string(k + 1);
      auto m = hl7v2::Message::parse(std::string(spans[k].bytes));
      if (!m) {
        ++refused;  // not parseable: the parser's issue is the reason
        if (m.error().why.empty()) ++problems, std::printf("FAIL %s: refused without a reason\n", name.c_str());
        continue;
      }
      const std::string type = m->text("MSH-9.1");
      const bool wanted = type == "ADT" || type == "REF";
      adt_ref += wanted;
      const mapping::Translation t = mapping::translate(**set, *m, {"2026-01-01T00:00:00+00:00", ""});
      if (!t.accepted) {
        ++refused;
        const bool said = std::any_of(t.issues.begin(), t.issues.end(), [](const auto& i) {
          return i.issue.severity == hl7v2::Severity::kError && !i.issue.why.empty();
        });
        if (!said) ++problems, std::printf("FAIL %s: refused without a reason\n", name.c_str());
        else if (wanted) std::printf("note %s (%s): %s\n", name.c_str(), type.c_str(), t.issues.front().to_string().c_str());
        continue;
      }
      auto b = mapping::translate_to_fhir(t.record, **set);
      if (!b) {
        ++problems;
        std::printf("FAIL %s: no Bundle: %s\n", name.c_str(), b.error().front().to_string().c_str());
        continue;
      }
      ++bundles;
      const auto issues = fhir::validate(b->bundle, *profiles);
      for (const fhir::Issue& i : issues)
        if (i.severity == fhir::Severity::kError || i.severity == fhir::Severity::kFatal) {
          ++problems;
          std::printf("FAIL %s: %s: %s\n", name.c_str(), i.expression.c_str(), i.diagnostics.c_str());
        }
      std::ofstream(fs::path(argv[4]) / (f.stem().string() + "-" + std::to_string(k + 1) + ".json")) << b->to_json(true);
    }
  }
  std::printf("%d Bundle(s) written and validated, %d ADT/REF message(s), %d refused with a reason, %d problem(s)\n",
              bundles, adt_ref, refused, problems);
  return problems == 0 && bundles > 0 ? 0 : 1;
}
