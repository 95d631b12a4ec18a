// Store benchmark: durable commits on this disk.
//
// Measured in one run, on one file system (the directory given, default: a fresh directory
// under the current one, so the figure is for the disk the gateway's data directory would use):
//   ceiling   raw SQLite, WAL + synchronous=FULL, one 700-byte row inserted per transaction:
//             the most single commits/s this disk allows (each is one fsync of the WAL);
//   batch=N   Store::apply() of batches of N ADT-sized messages, each message = a journal entry
//             (700-byte payload) + a Patient version with its search index rows + a Provenance;
//             reported as commits/s and messages/s. N = 1 is one fsync per message (the
//             single-connection case); N = 16 and 64 are group commits.
//   update    batch=64 again, each message re-sending a patient already stored with the same
//             demographics (a new version, unchanged search terms): the ingest's common case, an
//             A08 or an A01 for a known patient.
// A last line repeats batch=64 with synchronous=OFF (not durable) to show the CPU cost alone.
// Each line also gives the process CPU time (user + system) per message. On a busy machine both
// move with the load; to compare two builds of the store there, count instructions instead:
//   valgrind --tool=callgrind --toggle-collect='*timed_batches*' store_bench --cases nosync
// and divide the total by the messages printed.
// Before a figure is printed, the store is checked: the journal holds exactly the messages
// applied and a patient written in the last batch is readable, so a broken store cannot post a
// good number.
//
// Usage: store_bench [--dir DIR] [--seconds S]
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "store/store.h"

namespace fs = std::filesystem;
using namespace midhurst;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kPayload = [] {
  std::string m =
      "MSH|^~\\&|PAS|RYJ|MIDHURST|X|20240301100000||ADT^A08^ADT_A01|CTRL|P|2.4|||AL|NE\r"
      "EVN|A08|20240301100000\r"
      "PID|1||9434765919^^^NHS^NH~M123456^^^RYJ^MR||SMITH^ANN^MARIE^^MRS||19500203|F|||"
      "1 HIGH STREET^^LONDON^^SW1A 1AA^GBR^H||020 7946 0000^PRN^PH|||||||||||||||||\r"
      "PD1|||GP PRACTICE^^Y06601|G1234567^JONES^PETER\r"
      "PV1|1|I|RYJ01^WARD 5^BED 2^RYJ01||||C1234567^BROWN^SARAH|||300||||19|||C1234567^BROWN^SARAH"
      "|IP|V0000001|||||||||||||||||||||||||20240301090000\r";
  m.resize(700, 'Z');
  return m;
}();

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

// Raw SQLite: one row per transaction, WAL + synchronous=FULL.
double raw_ceiling(const fs::path& dir, double secs) {
  const std::string path = (dir / "raw.db").string();
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) die("cannot open " + path);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                   "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES(?)", -1, &ins, nullptr);
  long n = 0;
  auto start = Clock::now();
  while (seconds_since(start) < secs) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_bind_blob(ins, 1, kPayload.data(), static_cast<int>(kPayload.size()), SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE) die("raw insert failed");
    sqlite3_reset(ins);
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) die("raw commit failed");
    ++n;
  }
  const double rate = n / seconds_since(start);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return rate;
}

// Messages first .. first+size-1; message k is about patient p<k % patients> (patients = 0: a new
// patient per message).
store::Batch make_batch(long first, int size, long patients = 0) {
  store::Batch b;
  for (int i = 0; i < size; ++i) {
    const std::string control = std::to_string(first + i);
    const std::string id = std::to_string(patients ? (first + i) % patients : first + i);
    store::Message m;
    m.journal.payload = kPayload;
    m.journal.sender = store::Sender{"PAS", "RYJ"};
    m.journal.control_id = "C" + control;
    care::Patient p;
    p.id = "p" + id;
    p.nhs_number = care::NhsNumber{"9434765919", std::nullopt};
    p.identifiers.push_back(care::Identifier{"https://fhir.example.org/Id/mrn-RYJ", "M" + id, "MR", "RYJ", std::nullopt});
    care::HumanName n;
    n.family = "Smith";
    n.given = {"Ann", "Marie"};
    p.names.push_back(n);
    p.birth_date = "1950-02-03";
    p.gender = care::AdministrativeGender::kFemale;
    care::Provenance prov;
    prov.sender = care::SourceSystem{"PAS", "RYJ"};
    prov.message_id = m.journal.control_id;
    prov.message_type = "ADT^A08";
    prov.received_at = "2024-03-01T10:00:00Z";
    m.writes.push_back(store::EntityWrite::put(std::move(p)));
    m.writes.push_back(store::EntityWrite::put(std::move(prov)));
    b.messages.push_back(std::move(m));
  }
  return b;
}

// The timed part of a case, apart so that a profiler can be pointed at it alone: applies batches
// for `secs` seconds; returns the seconds taken.
[[gnu::noinline]] double timed_batches(store::Store& s, int batch_size, double secs, long patients,
                                       long* messages, long* commits) {
  const auto start = Clock::now();
  double elapsed = 0;
  while ((elapsed = seconds_since(start)) < secs) {
    store::Batch b = make_batch(*messages, batch_size, patients);
    auto r = s.apply(b);
    if (!r.ok()) die(r.error().message);
    *messages += batch_size;
    ++*commits;
  }
  return elapsed;
}

void bench_store(const fs::path& dir, int batch_size, double secs, double ceiling, bool durable,
                 long patients = 0) {
  const std::string path = (dir / ("store-" + std::to_string(batch_size) + (durable ? "" : "-nosync") +
                                   (patients ? "-update" : "") + ".db"))
                               .string();
  store::StoreOptions options;
  options.durable = durable;
  auto s = store::open_store("sqlite:" + path, options);
  if (!s.ok()) die(s.error().message);
  long messages = 0, commits = 0;
  if (patients) {
    // The patients exist before the clock starts; their journal entries count as applied.
    for (; messages < patients; messages += batch_size)
      if (auto r = (*s)->apply(make_batch(messages, batch_size)); !r.ok()) die(r.error().message);
  }
  const long first = messages;
  const double cpu0 = cpu_seconds();
  const double elapsed = timed_batches(**s, batch_size, secs, patients, &messages, &commits);
  const double cpu_us = 1e6 * (cpu_seconds() - cpu0) / static_cast<double>(messages - first);
  // Check before reporting.
  // Journal seqs start at 1 in a fresh file: exactly `messages` rows, the last being seq messages.
  auto tail = (*s)->list_journal(messages - 1, 10);

  const long last_patient = patients ? (messages - 1) % patients : messages - 1;
  auto last = (*s)->read(care::EntityType::kPatient, "p" + std::to_string(last_patient));
  if (!tail.ok() || tail->size() != 1 || tail->front().seq != messages ||
      tail->front().entry.control_id != "C" + std::to_string(messages - 1) || !last.ok() ||
      !last->has_value() || (patients && (*last)->version < 2))
    die("check failed: the store does not hold what was applied");
  const double rate = static_cast<double>(messages - first) / elapsed;
  const char* label = patients ? "update" : "batch";
  if (durable) {
    std::printf("%s=%-3d %7.0f commits/s %8.0f messages/s %5.0f us CPU/message over %ld  (%.0f%% of the raw commit ceiling in commits/s)\n",
                label, batch_size, commits / elapsed, rate, cpu_us, messages - first, 100.0 * commits / elapsed / ceiling);
  } else {
    std::printf("%s=%-3d %7.0f commits/s %8.0f messages/s %5.0f us CPU/message over %ld  (synchronous=OFF: the CPU cost alone, not durable)\n",
                label, batch_size, commits / elapsed, rate, cpu_us, messages - first);
  }
}

}  // namespace

constexpr const char* kUsage =
    "usage: store_bench [--dir DIR] [--seconds S] [--cases LIST]\n"
    "  Measures durable group commits of the SQLite store (batches of 1, 16 and 64 messages, and\n"
    "  64 messages that update patients already stored) against the raw one-row commit ceiling of\n"
    "  the same disk, S seconds per case (default 3), then batches of 64 without fsync.\n"
    "  LIST: some of 1,16,64,update,nosync, comma-separated (default all).\n"
    "  DIR defaults to a new directory under the current one (on the disk being measured;\n"
    "  /tmp may be a RAM disk, whose fsync proves nothing), removed afterwards.\n";

int main(int argc, char** argv) {
  fs::path dir;
  double secs = 3;
  std::string cases = "1,16,64,update,nosync";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) secs = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--cases") && i + 1 < argc) cases = argv[++i];
    else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  auto wanted = [&](const std::string& name) {
    return ("," + cases + ",").find("," + name + ",") != std::string::npos;
  };
  bool cleanup = false;
  if (dir.empty()) {
    std::string tmpl = (fs::current_path() / "store-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) die("cannot create a directory under the current one");
    dir = tmpl;
    cleanup = true;
  }
  std::printf("store_bench on %s, %.1f s per case, SQLite %s, WAL + synchronous=FULL\n",
              dir.c_str(), secs, sqlite3_libversion());
  const double ceiling = raw_ceiling(dir, secs);
  std::printf("ceiling   %8.0f commits/s (raw SQLite, one row per transaction)\n", ceiling);
  for (int n : {1, 16, 64})
    if (wanted(std::to_string(n))) bench_store(dir, n, secs, ceiling, true);
  if (wanted("update")) bench_store(dir, 64, secs, ceiling, true, /*patients=*/1024);
  // The same work without fsync separates the CPU cost of a message from the disk's.
  if (wanted("nosync")) bench_store(dir, 64, secs, ceiling, false);
  if (cleanup) fs::remove_all(dir);
  return 0;
}
