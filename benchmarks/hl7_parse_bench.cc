// HL7v2 parse benchmark.
//
// Replicates the single-message files of the shared corpus to at least --mb megabytes and
// measures, on one thread:
//   ceiling  a plain byte scan that counts the delimiter bytes (a 256-entry table lookup per
//            byte): the least any parser must do, so the ratio to it is the parser's overhead;
//   index    Message::reset (copy in + index every segment, field, repetition, component and
//            sub-component);
//   read     index, then read every leaf value as unescaped UTF-8 text.
// "read" is also measured on the corpus's ADT messages alone (the feed Midhurst lives on; they
// average over 3 KB), and on the NHS ITK-style ADT messages of examples/ (under 1 KB, the size
// of a typical trust feed).
// Before timing, every message is parsed once and its segment count checked against a
// naive split, so a broken parser cannot post a good number.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "hl7v2/message.h"

namespace fs = std::filesystem;
using midhurst::hl7v2::Element;
using midhurst::hl7v2::Message;

namespace {

struct Workload {
  std::string bytes;                                 // every message, back to back
  std::vector<std::pair<size_t, size_t>> messages;   // offset, length
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t naive_segment_count(std::string_view m) {
  size_t n = 0;
  bool in_segment = false;
  for (char c : m) {
    if (c == '\r' || c == '\n') {
      n += in_segment;
      in_segment = false;
    } else {
      in_segment = true;
    }
  }
  return n + in_segment;
}

Workload build(const fs::path& dir, size_t min_bytes, bool adt_only) {
  std::vector<std::string> files;
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir)) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::string s = read_file(p);
    if (s.starts_with("\xEF\xBB\xBF")) s.erase(0, 3);
    if (!s.starts_with("MSH")) continue;                       // batch files
    if (s.find("\rMSH", 1) != std::string::npos) continue;     // several messages
    auto m = Message::parse(s);
    if (!m.ok()) continue;                                     // the malformed ones
    if (m->segment_count() != naive_segment_count(s)) {
      std::fprintf(stderr, "segment count mismatch in %s\n", p.filename().c_str());
      std::exit(2);
    }
    if (adt_only && m->text("MSH-9.1") != "ADT") continue;
    files.push_back(std::move(s));
  }
  Workload w;
  if (files.empty()) return w;
  while (w.bytes.size() < min_bytes) {
    for (const auto& f : files) {
      w.messages.emplace_back(w.bytes.size(), f.size());
      w.bytes += f;
    }
  }
  return w;
}

template <typename F>
double best_seconds(int reps, F&& f) {
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  return best;
}

volatile size_t g_sink;  // keeps results observable so nothing is optimised away

size_t scan_ceiling(const Workload& w) {
  uint8_t cls[256] = {};
  for (unsigned char c : std::string_view("|^~&\r\n")) cls[c] = 1;
  size_t count = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(w.bytes.data());
  for (size_t i = 0, n = w.bytes.size(); i < n; ++i) count += cls[p[i]];
  return count;
}

size_t index_all(const Workload& w, Message& msg) {
  size_t segments = 0;
  for (auto [off, len] : w.messages) {
    msg.reset(std::string_view(w.bytes).substr(off, len));
    segments += msg.segment_count();
  }
  return segments;
}

size_t read_all(const Workload& w, Message& msg, std::string& scratch) {
  size_t chars = 0;
  for (auto [off, len] : w.messages) {
    msg.reset(std::string_view(w.bytes).substr(off, len));
    for (size_t s = 0; s < msg.segment_count(); ++s) {
      auto seg = msg.segment(s);
      seg.for_each_value([&](const Element& value) { chars += value.text(scratch).size(); });
    }
  }
  return chars;
}

void report(const char* name, const Workload& w, double secs, double ceiling_mbps) {
  double mb = static_cast<double>(w.bytes.size()) / 1e6;
  double mbps = mb / secs;
  std::printf("%-22s %9.1f MB/s %12.0f msg/s", name, mbps, static_cast<double>(w.messages.size()) / secs);
  if (ceiling_mbps > 0) std::printf("   %5.1f%% of ceiling", 100.0 * mbps / ceiling_mbps);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = 50;
  int reps = 5;
  fs::path corpus = fs::path(MIDHURST_CORPUS_DIR) / "hl7v2";
  fs::path examples = fs::path(MIDHURST_SOURCE_DIR) / "examples";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: hl7_parse_bench [--mb N] [--reps N] [--corpus DIR]\n"
          "  Parses the corpus replicated to N megabytes (default 50), best of --reps runs (default 5),\n"
          "  and prints MB/s and messages/s for a delimiter scan (the ceiling), indexing, and reading\n"
          "  every value.\n");
      return 0;
    }
    if (a == "--mb" && i + 1 < argc) mb = std::stoul(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
    else if (a == "--corpus" && i + 1 < argc) corpus = argv[++i];
    else {
      std::fprintf(stderr, "hl7_parse_bench: unknown argument %s (try --help)\n", a.c_str());
      return 2;
    }
  }
  Workload all = build(corpus, mb << 20, false);
  Workload adt = build(corpus, mb << 20, true);
  Workload itk = build(examples, mb << 20, true);
  if (all.messages.empty() || adt.messages.empty() || itk.messages.empty()) {
    std::fprintf(stderr, "hl7_parse_bench: no messages found in %s\n", corpus.c_str());
    return 2;
  }
  std::printf("corpus replicated: %.1f MB, %zu messages (ADT only: %.1f MB, %zu messages; "
              "examples' ITK ADT: %.1f MB, %zu messages)\n",
              all.bytes.size() / 1e6, all.messages.size(), adt.bytes.size() / 1e6, adt.messages.size(),
              itk.bytes.size() / 1e6, itk.messages.size());

  Message msg;
  std::string scratch;
  double t_ceiling = best_seconds(reps, [&] { g_sink = scan_ceiling(all); });
  double t_index = best_seconds(reps, [&] { g_sink = index_all(all, msg); });
  double t_read = best_seconds(reps, [&] { g_sink = read_all(all, msg, scratch); });
  double t_ceiling_adt = best_seconds(reps, [&] { g_sink = scan_ceiling(adt); });
  double t_read_adt = best_seconds(reps, [&] { g_sink = read_all(adt, msg, scratch); });
  double t_ceiling_itk = best_seconds(reps, [&] { g_sink = scan_ceiling(itk); });
  double t_read_itk = best_seconds(reps, [&] { g_sink = read_all(itk, msg, scratch); });

  double ceiling = all.bytes.size() / 1e6 / t_ceiling;
  double ceiling_adt = adt.bytes.size() / 1e6 / t_ceiling_adt;
  report("ceiling (byte scan)", all, t_ceiling, 0);
  report("(a) index", all, t_index, ceiling);
  report("(b) index + read all", all, t_read, ceiling);
  report("ADT ceiling", adt, t_ceiling_adt, 0);
  report("ADT (b) index + read", adt, t_read_adt, ceiling_adt);
  report("ITK ADT ceiling", itk, t_ceiling_itk, 0);
  report("ITK ADT (b) index+read", itk, t_read_itk, itk.bytes.size() / 1e6 / t_ceiling_itk);
  return 0;
}
