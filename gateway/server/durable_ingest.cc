#include "server/durable_ingest.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "care/codes.h"
#include "hl7v2/ack.h"
#include "hl7v2/message.h"
#include "hl7v2/validate.h"
#include "mapping/engine.h"
#include "mapping/issue.h"

namespace midhurst::server {
namespace {

using hl7v2::AckCode;
using hl7v2::AckOutcome;
using hl7v2::ErrorCode;
using hl7v2::Issue;
using hl7v2::Issues;
using hl7v2::Severity;

// ACK control ids: unique in this process and across restarts (the start second leads).
std::string next_ack_control_id() {
  static const auto start = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  static std::atomic<uint64_t> counter{0};
  return "MID" + std::to_string(start) + "-" + std::to_string(++counter);
}

Issue internal_error(std::string why) {
  Issue i;
  i.severity = Severity::kError;
  i.code = ErrorCode::kApplicationInternalError;
  i.why = std::move(why);
  return i;
}

// The ACK due for `original` after its outcome is durable; "" when the sender asked for none.
std::string ack_for(const hl7v2::Message& original, AckOutcome outcome, const Issues& issues,
                    const std::string& text) {
  std::optional<AckCode> code = hl7v2::ack_on_commit(original, outcome);
  if (!code) return "";
  hl7v2::AckRequest request;
  request.code = *code;
  request.timestamp = hl7v2::hl7_timestamp_now();
  request.control_id = next_ack_control_id();
  request.text = text;
  request.issues = issues;
  auto ack = hl7v2::build_ack(original, request);
  if (ack.ok()) return ack->encode();
  // build_ack only fails on values it cannot write; answer anyway rather than stay silent.
  auto salvage = hl7v2::build_salvage_ack(original.bytes(), internal_error(ack.error()), request.timestamp,
                                          request.control_id);
  return salvage.ok() ? salvage->encode() : "";
}

// The ACK for bytes that are not a usable message (or when the store is down).
std::string salvage_ack_for(std::string_view bytes, const Issue& problem) {
  auto ack = hl7v2::build_salvage_ack(bytes, problem, hl7v2::hl7_timestamp_now(), next_ack_control_id());
  return ack.ok() ? ack->encode() : "";
}

std::string issues_text(const Issues& issues) {
  std::string s;
  for (const Issue& i : issues) {
    if (i.severity != Severity::kError) continue;
    if (!s.empty()) s += "; ";
    s += i.where.to_string() + ": " + i.why;
  }
  return s;
}

// The ledger's fields that no rule read and that the profile did not ignore, as the journal
// keeps them ({"unread": [...], "ignored": [...]}).
std::string ledger_json(const mapping::Ledger& ledger) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("unread");
  w.StartArray();
  for (const std::string& f : ledger.fields(mapping::LedgerEntry::Status::kUnread)) w.String(f.c_str());
  w.EndArray();
  w.Key("ignored");
  w.StartArray();
  for (const std::string& f : ledger.fields(mapping::LedgerEntry::Status::kIgnored)) w.String(f.c_str());
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

// The business identifiers a stored patient can be found by, strongest first.
std::vector<std::pair<std::string, std::string>> patient_keys(const care::Patient& p) {
  std::vector<std::pair<std::string, std::string>> keys;
  if (p.nhs_number && !p.nhs_number->value.empty())
    keys.emplace_back(std::string(care::codes::kNhsNumber), p.nhs_number->value);
  for (const care::Identifier& i : p.identifiers)
    if (!i.system.empty() && !i.value.empty()) keys.emplace_back(i.system, i.value);
  return keys;
}

}  // namespace

// One message on its way: what prepare() learned from it alone, then its place in the batch.
struct DurableIngest::Prepared {
  std::optional<hl7v2::Message> message;  // absent when the bytes did not parse
  Issues issues;                          // what the ACK reports
  AckOutcome outcome = AckOutcome::kAccepted;
  store::Message sm;                      // journal entry; writes are added by the writer
  std::optional<care::Record> record;     // the mapped entities, when accepted
  size_t store_index = 0;                 // its place in the store batch
};

DurableIngest::DurableIngest(store::Store& store, const mapping::ProfileStore& profiles, Options options)
    : store_(store), profiles_(profiles), options_(options) {
  writer_ = std::thread([this] { run(); });
}

DurableIngest::~DurableIngest() { stop(); }

void DurableIngest::submit(std::string message, IngestSource source, Done done) {
  // Parse, validate and map here, outside the lock and off the writer thread: this is most of
  // the CPU per message, and the writer is the bottleneck. The queue order (taken below) is
  // still the order of commit (I3).
  std::unique_ptr<Prepared> prepared = prepare(message);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(Item{std::move(message), std::move(source), std::move(done), std::move(prepared)});
      wake_.notify_one();
      return;
    }
  }
  done(salvage_ack_for(message, internal_error("the gateway is shutting down; resend later")));
}

void DurableIngest::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
    wake_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
}

void DurableIngest::run() {
  for (;;) {
    std::deque<Item> items;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything submitted is done
      // Group commit (I4): take whatever is waiting, up to max_batch.
      while (!queue_.empty() && items.size() < options_.max_batch) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    process(items);
  }
}

std::unique_ptr<DurableIngest::Prepared> DurableIngest::prepare(const std::string& message) const {
  auto w = std::make_unique<Prepared>();
  store::Message& sm = w->sm;
  sm.journal.kind = store::PayloadKind::kHl7v2;
  sm.journal.payload = message;

  Issue parse_error;
  hl7v2::Message parsed;
  if (!parsed.reset(message, &parse_error)) {
    const hl7v2::SalvagedHeader h = hl7v2::salvage_header(message);
    sm.journal.sender = {h.sending_application, h.sending_facility};
    sm.journal.control_id = h.control_id;
    sm.journal.status = store::JournalStatus::kRejected;
    sm.journal.reason = parse_error.to_string();
    w->issues.push_back(parse_error);
    w->outcome = AckOutcome::kRejected;
    return w;
  }
  w->message = std::move(parsed);
  const hl7v2::Message& m = *w->message;
  sm.journal.sender = {m.text("MSH-3"), m.text("MSH-4")};
  sm.journal.control_id = m.text("MSH-10");
  Issues problems = hl7v2::validate(m);
  std::shared_ptr<const mapping::ProfileSet> profiles;
  if (!hl7v2::has_errors(problems)) profiles = profiles_.current();
  if (hl7v2::has_errors(problems)) {
    sm.journal.status = store::JournalStatus::kRejected;
    sm.journal.reason = issues_text(problems);
    w->issues = std::move(problems);
    w->outcome = hl7v2::outcome_of(w->issues);
  } else if (!profiles) {
    sm.journal.status = store::JournalStatus::kRejected;
    sm.journal.reason = "no mapping profiles are loaded";
    w->issues.push_back(internal_error(sm.journal.reason));
    w->outcome = AckOutcome::kRejected;
  } else {
    mapping::TranslateOptions topts;
    mapping::Translation t = mapping::translate(*profiles, m, topts);
    sm.journal.unmapped_json = ledger_json(t.ledger);
    Issues mapped = mapping::to_hl7_issues(t.issues);
    if (!t.accepted) {
      sm.journal.status = store::JournalStatus::kRejected;
      sm.journal.reason = issues_text(mapped);
      w->issues = std::move(mapped);
      w->outcome = hl7v2::outcome_of(w->issues);
      if (w->outcome == AckOutcome::kAccepted) w->outcome = AckOutcome::kError;
    } else {
      sm.journal.status = store::JournalStatus::kAccepted;
      w->issues = std::move(mapped);  // warnings only: fields left out, reported in ERR
      w->record = std::move(t.record);
    }
  }
  return w;
}

void DurableIngest::process(std::deque<Item>& items) {
  store::Batch batch;
  batch.messages.reserve(items.size());
  // Patients created earlier in this batch, by business identifier, so that two messages
  // about one new patient in one transaction make one patient with two versions' worth of
  // changes applied in order (I3) rather than two patients.
  std::map<std::pair<std::string, std::string>, std::string> batch_patients;
  std::optional<store::StoreError> lookup_failed;  // a patient lookup the store could not answer

  for (size_t k = 0; k < items.size(); ++k) {
    Prepared& w = *items[k].prepared;
    store::Message& sm = w.sm;
    if (w.record) {
      // Accepted: give the entities their ids. Patient matching reads the store, so it stays
      // here on the writer, in queue order.
      std::string provenance_id = store::new_entity_id();
      care::Reference provenance_ref;
      provenance_ref.type = care::EntityType::kProvenance;
      provenance_ref.id = provenance_id;
      if (care::Patient* p = w.record->get<care::Patient>()) {
        std::string id;
        for (const auto& key : patient_keys(*p)) {
          if (auto it = batch_patients.find(key); it != batch_patients.end()) {
            id = it->second;
            break;
          }
          store::Query q;
          q.type = care::EntityType::kPatient;
          q.identifier = key;
          q.count = 1;
          auto found = store_.search(q);
          if (!found.ok()) {
            // Guessing "new patient" here would split one person in two; treat the batch as
            // one the store could not take (I5) instead.
            if (!lookup_failed) lookup_failed = found.error();
            break;
          }
          if (!found->entries.empty()) {
            id = found->entries.front().id;
            break;
          }
        }
        if (id.empty()) id = store::new_entity_id();
        for (const auto& key : patient_keys(*p)) batch_patients.emplace(key, id);
        p->id = id;
        p->provenance = provenance_ref;
        sm.writes.push_back(store::EntityWrite::put(std::move(*p)));
      }
      if (care::Provenance* prov = w.record->get<care::Provenance>()) {
        prov->id = provenance_id;
        sm.writes.push_back(store::EntityWrite::put(std::move(*prov)));
      }
      w.record.reset();
    }
    w.store_index = batch.messages.size();
    batch.messages.push_back(std::move(sm));
  }

  auto committed = lookup_failed ? store::StoreResult<store::BatchResult>(err(*lookup_failed)) : store_.apply(batch);
  for (size_t k = 0; k < items.size(); ++k) {
    const Prepared& w = *items[k].prepared;
    std::string ack;
    if (!committed.ok()) {
      // I5: nothing was stored; ask for the message again.
      Issue down = internal_error("the message was not stored (" + committed.error().to_string() +
                                  "); resend it");
      if (w.message) {
        Issues issues{down};
        ack = ack_for(*w.message, AckOutcome::kRejected, issues, down.why);
      } else {
        ack = salvage_ack_for(items[k].message, down);
      }
    } else if (!w.message) {
      ack = salvage_ack_for(items[k].message, w.issues.front());
    } else {
      const store::MessageOutcome& o = committed->messages[w.store_index];
      switch (o.status) {
        case store::JournalStatus::kDuplicate:
          // Already stored: answer as the first time, change nothing (I2).
          ack = ack_for(*w.message, AckOutcome::kAccepted, {}, "duplicate of an accepted message");
          break;
        case store::JournalStatus::kFailed: {
          Issues issues{internal_error("the store refused the message's changes: " + o.reason)};
          ack = ack_for(*w.message, AckOutcome::kError, issues, o.reason);
          break;
        }
        default:
          ack = ack_for(*w.message, w.outcome, w.issues,
                        w.outcome == AckOutcome::kAccepted ? "" : issues_text(w.issues));
          break;
      }
    }
    items[k].done(std::move(ack));
  }
}

}  // namespace midhurst::server
