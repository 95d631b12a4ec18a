// ADT -> care mapping benchmark, on one thread.
//
// Workload: the NHS ITK-style ADT fixture messages of mappings/hl7v2-care/fixtures plus every
// ADT message of the shared corpus that the default profile accepts, cycled for --seconds.
// Measures, per message:
//   parse     Message::reset (index every delimiter): the floor under any translation;
//   translate parse + profile selection + every rule + Provenance + the field ledger, building
//             typed care entities (care::Record);
//   translate-fields  the same with the ledger ingest stores (statuses only, no rule lists);
//   +json     the same, then the Record serialised to JSON (what `translate --to care` prints);
//   +fhir     translate, then care → FHIR transaction Bundle (mapping/fhir_engine.h, the
//             care-fhir profiles) serialised to JSON text: the whole v2 → FHIR path;
//   fhir only the care → FHIR Bundle JSON step alone, from records translated beforehand
//             (MB/s there is still per input message);
//   read      a FHIR read by id without store or HTTP: a stored Patient's care JSON rendered
//             alone (FhirRenderer::render_entity_json) and written as FHIR JSON.
// Then the same parse and +fhir figures for the ADT^A01 messages alone (the issue's headline
// benchmark: ADT^A01 to a FHIR Bundle in JSON, beside the parse-only figure).
// Before timing, each message is translated once and must give a Patient (and a Bundle), so a
// broken engine cannot post a good number. Figures only: it never fails on a number.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hl7v2/batch.h"
#include "hl7v2/message.h"
#include "mapping/engine.h"
#include "mapping/fhir_engine.h"
#include "care/json.h"
#include "fhir/json.h"
#include "mapping/fhir_render.h"

namespace fs = std::filesystem;
using namespace midhurst;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// --stage NAME: only that figure (for profiling one stage); "" = every one.
std::string g_stage;
// --passes N: exactly N passes over the messages per stage instead of --seconds, so that an
// instruction count (callgrind) is per a known number of messages.
std::size_t g_passes = 0;

// --dump: every message of the fixtures and of the whole HL7v2 corpus, whatever its outcome,
// as translation_to_json (record, issues and ledger), one per line: run before and after an
// engine change and compare, since the figures mean nothing if the output moved.
int dump_all(const mapping::ProfileSet& set, const std::string& mappings_dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(mappings_dir + "/hl7v2-care/fixtures"))
    if (e.path().extension() == ".hl7") files.push_back(e.path());
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_CORPUS_DIR) + "/hl7v2")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  mapping::TranslateOptions opts;
  opts.received_at = "2026-01-01T00:00:00+00:00";
  for (const fs::path& f : files) {
    const std::string bytes = read_file(f);
    for (const hl7v2::MessageSpan& span : hl7v2::split_batch(bytes).messages()) {
      auto m = hl7v2::Message::parse(std::string(span.bytes));
      if (!m) continue;
      std::printf("%s %s\n", f.filename().c_str(), mapping::translation_to_json(mapping::translate(set, *m, opts), false).c_str());
    }
  }
  return 0;
}

// care → FHIR: each record's entities as the store keeps them (a gateway id, version 1, a
// lastUpdated), in care JSON: the input of a FHIR read (FhirRenderer::render_entity_json).
struct StoredEntity {
  care::EntityType type;
  std::string id, json;
};
std::vector<StoredEntity> stored_entities(care::Record record, std::size_t n) {
  std::vector<StoredEntity> out;
  for (const care::EntityInfo& e : care::entities()) {
    if (!record.find(e.type)) continue;
    auto* header = static_cast<care::Entity*>(record.ensure(e.type));
    char id[40];
    std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012zu", n * 100 + out.size());
    header->id = id;
    header->version = 1;
    header->last_updated = "2026-01-01T00:00:00+00:00";
    out.push_back({e.type, id, care::struct_to_json(e.info(), record.find(e.type), false)});
  }
  return out;
}

// --dump-fhir: per fixture and corpus message that translates, the compact care → FHIR Bundle
// JSON, then every resource a FHIR read renders from each of its entities (compact and pretty):
// compare before and after a care→fhir or JSON writer change.
int dump_fhir(const mapping::ProfileSet& set, const std::string& mappings_dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(mappings_dir + "/hl7v2-care/fixtures"))
    if (e.path().extension() == ".hl7") files.push_back(e.path());
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_CORPUS_DIR) + "/hl7v2")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  auto set_ptr = std::shared_ptr<const mapping::ProfileSet>(&set, [](const mapping::ProfileSet*) {});
  auto renderer = mapping::FhirRenderer::create(set_ptr);
  if (!renderer) return std::fprintf(stderr, "%s\n", renderer.error().c_str()), 1;
  mapping::TranslateOptions opts;
  opts.received_at = "2026-01-01T00:00:00+00:00";
  std::size_t n = 0;
  for (const fs::path& f : files) {
    const std::string bytes = read_file(f);
    for (const hl7v2::MessageSpan& span : hl7v2::split_batch(bytes).messages()) {
      auto m = hl7v2::Message::parse(std::string(span.bytes));
      if (!m) continue;
      const mapping::Translation t = mapping::translate(set, *m, opts);
      if (!t.accepted) continue;
      auto b = mapping::translate_to_fhir(t.record, set);
      std::printf("%s bundle %s\n", f.filename().c_str(), b ? b->to_json().c_str() : "failed");
      for (const StoredEntity& e : stored_entities(t.record, n++)) {
        auto r = (*renderer)->render_entity_json(e.type, e.json);
        if (!r) {
          std::printf("%s read %s failed\n", f.filename().c_str(), e.id.c_str());
          continue;
        }
        for (const mapping::RenderedResource& res : r->resources)
          for (const bool pretty : {false, true}) {
            auto text = fhir::write_json(res.json, *set.fhir_model(), {.pretty = pretty});
            std::printf("%s read %s\n", f.filename().c_str(), text ? text->c_str() : "unwritable");
          }
      }
    }
  }
  return 0;
}

template <typename F>
void measure(const char* name, const std::vector<std::string>& msgs, double seconds, F&& fn) {
  if (!g_stage.empty() && g_stage != name) return;
  using Clock = std::chrono::steady_clock;
  // Thread CPU time beside wall time: on a shared machine the wall figure also counts the time
  // other processes held the core; the CPU figure is this thread's own cost.
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  std::size_t n = 0, bytes = 0;
  const auto start = Clock::now();
  const double cpu_start = cpu_now();
  double elapsed = 0;
  while (g_passes ? n < g_passes * msgs.size() : elapsed < seconds) {
    for (const std::string& m : msgs) {
      fn(m);
      bytes += m.size();
    }
    n += msgs.size();
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  const double cpu = cpu_now() - cpu_start;
  std::printf("%-10s %10.0f messages/s  %8.1f MB/s  (%zu messages, %.2f s; %.0f messages per CPU second)\n", name,
              n / elapsed, bytes / elapsed / 1e6, n, elapsed, n / cpu);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::string mappings_dir = MIDHURST_MAPPINGS_DIR;
  bool dump = false, dump_fhir_output = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf(
          "usage: mapping_bench [--seconds S | --passes N] [--mappings DIR] [--stage NAME] [--dump]\n"
          "  Messages/s on one core for the corpus's ADT messages and the NHS fixtures: parse only,\n"
          "  hl7v2→care translation, care JSON, and ADT → care → FHIR transaction Bundle JSON,\n"
          "  S seconds per stage (default 3); the profiles of DIR (default: the repository's mappings/);\n"
          "  --stage runs one figure only (parse, translate, translate-fields, +json, +fhir, \"fhir only\", \"A01 parse\",\n"
          "  \"A01 fhir\", read), e.g. under a profiler; --dump prints the translation (record, issues, ledger)\n"
          "  of every fixture and corpus message, one per line, to compare an engine change's output;\n"
          "  --passes N runs each stage over the messages exactly N times (for instruction counts:\n"
          "  the difference between two N under callgrind, divided by the extra messages);\n"
          "  --dump-fhir prints their care → FHIR Bundles and read renders the same way.\n");
      return 0;
    }
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--passes") && i + 1 < argc) {
      g_passes = static_cast<std::size_t>(std::atol(argv[++i]));
    } else if (!std::strcmp(argv[i], "--stage") && i + 1 < argc) {
      g_stage = argv[++i];
    } else if (!std::strcmp(argv[i], "--dump")) {
      dump = true;
    } else if (!std::strcmp(argv[i], "--dump-fhir")) {
      dump_fhir_output = true;
    } else if (!std::strcmp(argv[i], "--mappings") && i + 1 < argc) {
      mappings_dir = argv[++i];
    } else {
      std::fprintf(stderr, "mapping_bench: unknown argument %s (try --help)\n", argv[i]);
      return 2;
    }
  }

  auto set = mapping::ProfileSet::load_dir(mappings_dir);
  if (!set) {
    for (const auto& e : set.error()) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 1;
  }
  if (dump) return dump_all(**set, mappings_dir);
  if (dump_fhir_output) return dump_fhir(**set, mappings_dir);
  std::vector<std::string> msgs;
  auto add_file = [&](const fs::path& p) {
    const std::string bytes = read_file(p);
    for (const hl7v2::MessageSpan& span : hl7v2::split_batch(bytes).messages()) {
      auto m = hl7v2::Message::parse(std::string(span.bytes));
      if (!m) continue;
      const mapping::Translation t = mapping::translate(**set, *m);
      if (t.accepted && t.record.get<care::Patient>() && mapping::translate_to_fhir(t.record, **set).ok())
        msgs.emplace_back(span.bytes);
    }
  };
  for (const auto& e : fs::directory_iterator(mappings_dir + "/hl7v2-care/fixtures"))
    if (e.path().extension() == ".hl7") add_file(e.path());
  const std::size_t itk = msgs.size();
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_CORPUS_DIR) + "/hl7v2"))
    if (e.path().filename().string().rfind("msfc__ADT", 0) == 0) add_file(e.path());
  if (msgs.empty()) {
    std::fprintf(stderr, "no message translates; nothing to measure\n");
    return 1;
  }
  std::size_t total = 0;
  for (const auto& m : msgs) total += m.size();
  std::printf("%zu ADT messages (%zu NHS ITK-style fixtures, %zu corpus), %zu bytes on average\n",
              msgs.size(), itk, msgs.size() - itk, total / msgs.size());

  hl7v2::Message m;
  std::size_t sink = 0;
  measure("parse", msgs, seconds, [&](const std::string& s) {
    m.reset(s);
    sink += m.segment_count();
  });
  mapping::TranslateOptions opts;
  opts.received_at = "2026-01-01T00:00:00+00:00";  // the clock is not what is measured
  measure("translate", msgs, seconds, [&](const std::string& s) {
    m.reset(s);
    const mapping::Translation t = mapping::translate(**set, m, opts);
    sink += t.issues.size() + t.ledger.entries.size();
  });
  // The same with the ledger ingest keeps (each field's status, no rule lists: LedgerDetail::kFields).
  measure("translate-fields", msgs, seconds, [&](const std::string& s) {
    m.reset(s);
    const mapping::Translation t = mapping::translate(**set, m, opts, mapping::LedgerDetail::kFields);
    sink += t.issues.size() + t.ledger.entries.size();
  });
  measure("+json", msgs, seconds, [&](const std::string& s) {
    m.reset(s);
    const mapping::Translation t = mapping::translate(**set, m, opts);
    sink += t.record.to_json().size();
  });
  // What `midhurst translate` does without --report: no field ledger.
  auto to_fhir = [&](const std::string& s) {
    m.reset(s);
    const mapping::Translation t = mapping::translate(**set, m, opts, mapping::LedgerDetail::kNone);
    auto bundle = mapping::translate_to_fhir(t.record, **set);
    sink += bundle ? bundle->to_json().size() : 0;
  };
  measure("+fhir", msgs, seconds, to_fhir);
  // care → FHIR Bundle JSON alone, from records translated beforehand: this stage's own cost.
  std::vector<care::Record> records;
  for (const std::string& s : msgs) {
    m.reset(s);
    records.push_back(mapping::translate(**set, m, opts).record);
  }
  std::size_t next = 0;
  measure("fhir only", msgs, seconds, [&](const std::string&) {
    auto bundle = mapping::translate_to_fhir(records[next++ % records.size()], **set);
    sink += bundle ? bundle->to_json().size() : 0;
  });
  // A FHIR read by id without the store and HTTP: each record's Patient, as stored (care JSON),
  // rendered alone and written as FHIR JSON (what GET /Patient/{id} does per request).
  {
    auto renderer = mapping::FhirRenderer::create(*set);
    std::vector<StoredEntity> patients;
    for (std::size_t i = 0; i < records.size(); ++i)
      for (StoredEntity& e : stored_entities(records[i], i))
        if (e.type == care::EntityType::kPatient) patients.push_back(std::move(e));
    mapping::RenderOptions read;
    read.resource_type = "Patient";
    if (renderer && !patients.empty())
      measure("read", msgs, seconds, [&](const std::string&) {
        const StoredEntity& e = patients[next++ % patients.size()];
        read.id = e.id;
        auto r = (*renderer)->render_entity_json(e.type, e.json, read);
        if (!r || r->resources.empty()) return;
        auto text = fhir::write_json(r->resources[0].json, *(*set)->fhir_model());
        sink += text ? text->size() : 0;
      });
  }

  std::vector<std::string> a01;
  for (const std::string& s : msgs)
    if (m.reset(s), m.segment_count() > 0 && s.find("ADT^A01") != std::string::npos) a01.push_back(s);
  if (!a01.empty()) {
    std::printf("%zu ADT^A01 messages\n", a01.size());
    measure("A01 parse", a01, seconds, [&](const std::string& s) {
      m.reset(s);
      sink += m.segment_count();
    });
    measure("A01 fhir", a01, seconds, to_fhir);
  }
  return sink == 0 ? 2 : 0;
}
