// load_patients: fills a store with synthetic but realistic patients for the read benchmarks.
//
// Each patient is one message of a Store::apply batch, as the ingest would commit it: a journal
// entry holding an ADT^A28 (add person) with the patient's PID and PD1, the Patient (a valid
// Modulus-11 NHS number, a local MRN, an official name from common English surnames and given
// names, a birth date between 1920 and 2005, gender, a home address and phone, the registered
// GP practice and GP) and the message's Provenance. The data are deterministic for a seed, so
// two runs load the same people.
//
// Also writes two list files for load generators, one value per line: the gateway ids of the
// patients (--ids) and their NHS numbers (--nhs).
//
// Usage: load_patients --store sqlite:PATH [--count N] [--batch N] [--seed N] [--ids FILE]
//                      [--nhs FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "care/codes.h"
#include "store/store.h"

using namespace midhurst;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kUsage =
    "usage: load_patients --store sqlite:PATH [--count N] [--batch N] [--seed N]\n"
    "                     [--ids FILE] [--nhs FILE]\n"
    "  Writes N synthetic patients (default 100000) into the store through Store::apply,\n"
    "  --batch messages per transaction (default 500); each message is a journal entry (an\n"
    "  ADT^A28), the Patient and its Provenance. --ids and --nhs receive the patients' gateway\n"
    "  ids and NHS numbers, one per line (for load generators). The store file is created when\n"
    "  missing; loading into a store that has data adds to it.\n";

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "load_patients: %s\n", what.c_str());
  std::exit(1);
}

const char* const kFamilies[] = {
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips", "Mason", "Mitchell", "Rose", "Davis",
    "Rodriguez", "Cox", "Alexander", "O'Neill", "Okafor", "Nowak", "Murphy", "Campbell", "Kelly",
    "Begum", "Ahmed", "Hughes", "Edwards", "Turner", "Morris", "Cooper", "Ward", "Morgan", "King"};
const char* const kFemale[] = {"Margaret", "Ann", "Susan", "Patricia", "Elizabeth", "Mary",
                               "Jean", "Olivia", "Amelia", "Fatima", "Zoë", "Siobhan", "Priya",
                               "Grace", "Joan", "Dorothy", "Emily", "Chloe", "Aisha", "Helen"};
const char* const kMale[] = {"John", "David", "Michael", "Peter", "James", "Robert", "William",
                             "George", "Mohammed", "Oliver", "Harry", "Chidi", "Arjun", "Thomas",
                             "Kenneth", "Brian", "Daniel", "Samuel", "Ali", "Patrick"};
const char* const kStreets[] = {"Church Lane", "High Street", "Station Road", "Victoria Road",
                                "Green Lane", "Manor Road", "Park Avenue", "Queens Road",
                                "Mill Lane", "The Crescent"};
const char* const kTowns[][2] = {{"LONDON", "W2 1NY"},      {"LEEDS", "LS1 4DY"},
                                 {"BRISTOL", "BS1 5TR"},    {"MANCHESTER", "M1 3BN"},
                                 {"BIRMINGHAM", "B1 1BB"},  {"NORWICH", "NR2 4SH"},
                                 {"PLYMOUTH", "PL1 2AA"},   {"YORK", "YO1 7HH"}};

template <class T, std::size_t N>
const T& pick(const T (&a)[N], std::mt19937_64& rng) {
  return a[rng() % N];
}

// A valid NHS number (nine digits, then the Modulus-11 check digit; a stem whose check digit
// would be 10 is skipped), distinct for distinct n.
std::string nhs_number(std::uint64_t n) {
  for (std::uint64_t stem = 400000000 + n * 10 % 500000000;; ++stem) {
    std::string s = std::to_string(stem);
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (s[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11) check = 0;
    if (check == 10) continue;
    return s + std::to_string(check);
  }
}

struct Person {
  care::Patient patient;
  std::string adt;  // the ADT^A28 that "sent" it
};

Person make_person(std::uint64_t n, std::mt19937_64& rng) {
  Person out;
  care::Patient& p = out.patient;
  p.id = store::new_entity_id();
  const std::string nhs = nhs_number(n);
  p.nhs_number = care::NhsNumber{nhs, std::nullopt};
  const std::string mrn = "M" + std::to_string(1000000 + n);
  p.identifiers.push_back(care::Identifier{"https://fhir.example.org/Id/mrn-RYJ", mrn, "MR", "RYJ",
                                           std::nullopt});
  const bool female = rng() % 2;
  p.gender = female ? care::AdministrativeGender::kFemale : care::AdministrativeGender::kMale;
  care::HumanName name;
  name.use = care::NameUse::kOfficial;
  name.family = pick(kFamilies, rng);
  name.given.push_back(female ? pick(kFemale, rng) : pick(kMale, rng));
  if (rng() % 3 == 0) name.given.push_back(female ? pick(kFemale, rng) : pick(kMale, rng));
  name.prefix.push_back(female ? "MRS" : "MR");
  p.names.push_back(name);
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02d-%02d", 1920 + static_cast<int>(rng() % 86),
                1 + static_cast<int>(rng() % 12), 1 + static_cast<int>(rng() % 28));
  p.birth_date = date;
  care::Address a;
  a.use = care::AddressUse::kHome;
  const auto& town = pick(kTowns, rng);
  a.lines.push_back(std::to_string(1 + rng() % 200) + " " + pick(kStreets, rng));
  a.city = town[0];
  a.postcode = town[1];
  a.country = "GBR";
  p.addresses.push_back(a);
  care::ContactPoint phone;
  phone.value = "07700 9" + std::to_string(10000 + rng() % 90000);
  phone.use = care::ContactUse::kMobile;
  p.telecoms.push_back(phone);
  care::RegisteredGp gp;
  const int practice = static_cast<int>(rng() % 400);
  char ods[8], gmp[9];
  std::snprintf(ods, sizeof ods, "Y%05d", 1000 + practice);
  std::snprintf(gmp, sizeof gmp, "G%07d", 8100000 + practice * 7 + static_cast<int>(rng() % 7));
  gp.practice_ods = ods;
  gp.gp_gmp = gmp;
  p.registered_gp = gp;

  const std::string stamp = "20261101091500";
  out.adt = "MSH|^~\\&|PAS|RYJ|MIDHURST|RYJ|" + stamp + "||ADT^A28^ADT_A05|LOAD" + std::to_string(n) +
            "|P|2.4|||AL|NE|GBR|UNICODE\r"
            "EVN|A28|" + stamp + "\r"
            "PID|1||" + nhs + "^^^NHS^NH~" + mrn + "^^^RYJ^MR||" + name.family + "^" + name.given[0] +
            "^^^" + name.prefix[0] + "^^L||" + std::string(date).erase(7, 1).erase(4, 1) + "|" +
            (female ? "F" : "M") + "|||" + a.lines[0] + "^^" + a.city + "^^" + a.postcode +
            "^GBR^H||" + phone.value + "^PRN^CP\r"
            "PD1|||PRACTICE^^" + gp.practice_ods + "|" + gp.gp_gmp + "^GP^A\r";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, ids_file, nhs_file;
  long count = 100000, batch_size = 500;
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fputs(kUsage, stderr);
        std::exit(2);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (!std::strcmp(argv[i], "--store")) url = value();
    else if (!std::strcmp(argv[i], "--count")) count = std::atol(value());
    else if (!std::strcmp(argv[i], "--batch")) batch_size = std::atol(value());
    else if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(value(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--ids")) ids_file = value();
    else if (!std::strcmp(argv[i], "--nhs")) nhs_file = value();
    else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (url.empty() || count < 1 || batch_size < 1) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto s = store::open_store(url);
  if (!s.ok()) die(s.error().message);
  std::ofstream ids, nhs;
  if (!ids_file.empty() && !(ids.open(ids_file), ids)) die("cannot write " + ids_file);
  if (!nhs_file.empty() && !(nhs.open(nhs_file), nhs)) die("cannot write " + nhs_file);

  std::mt19937_64 rng(seed);
  const auto start = Clock::now();
  for (long first = 0; first < count; first += batch_size) {
    store::Batch b;
    for (long n = first; n < std::min(count, first + batch_size); ++n) {
      Person person = make_person(static_cast<std::uint64_t>(n), rng);
      store::Message m;
      m.journal.kind = store::PayloadKind::kHl7v2;
      m.journal.sender = store::Sender{"PAS", "RYJ"};
      m.journal.control_id = "LOAD" + std::to_string(n);
      m.journal.status = store::JournalStatus::kAccepted;
      m.journal.payload = std::move(person.adt);
      care::Provenance prov;
      prov.id = store::new_entity_id();
      prov.sender = care::SourceSystem{"PAS", "RYJ"};
      prov.message_id = m.journal.control_id;
      prov.message_type = "ADT^A28";
      prov.received_at = "2026-11-01T09:15:00Z";
      person.patient.provenance = care::Reference{care::EntityType::kProvenance, prov.id, std::nullopt, ""};
      if (ids) ids << person.patient.id << '\n';
      if (nhs) nhs << person.patient.nhs_number->value << '\n';
      m.writes.push_back(store::EntityWrite::put(std::move(person.patient)));
      m.writes.push_back(store::EntityWrite::put(std::move(prov)));
      b.messages.push_back(std::move(m));
    }
    auto r = (*s)->apply(b);
    if (!r.ok()) die(r.error().message);
    for (const auto& o : r->messages)
      if (o.status != store::JournalStatus::kAccepted)
        die("a message was not accepted: " + std::string(store::journal_status_name(o.status)) + " " + o.reason);
  }
  if (ids && !ids.flush()) die("cannot write " + ids_file);
  if (nhs && !nhs.flush()) die("cannot write " + nhs_file);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("load_patients: %ld patients in %.1f s (%.0f/s) into %s\n", count, secs, count / secs,
              url.c_str());
  return 0;
}
