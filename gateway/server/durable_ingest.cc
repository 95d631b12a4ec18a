#include "server/durable_ingest.h"

#include <pthread.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "care/codes.h"
#include "hl7v2/ack.h"
#include "hl7v2/message.h"
#include "hl7v2/validate.h"
#include "mapping/engine.h"
#include "mapping/issue.h"
#include "server/record_writer.h"

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
  auto ack = hl7v2::build_ack_text(original, request);
  if (ack.ok()) return std::move(*ack);
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

// An Issue at the HL7v2 field the record writer names ("PV1-19": the first PV1's field 19).
Issue record_issue(const hl7v2::Message& m, const RecordWriter::Problem& p, Severity severity) {
  Issue i;
  i.severity = severity;
  i.code = static_cast<ErrorCode>(p.code);
  i.why = p.reason;
  const size_t dash = p.field.find('-');
  i.where.segment_id = p.field.substr(0, dash);
  if (dash != std::string::npos) i.where.field = static_cast<uint32_t>(std::stoul(p.field.substr(dash + 1)));
  for (size_t s = 0; s < m.segment_count(); ++s) {
    if (m.segment(s).id() == i.where.segment_id) {
      i.where.segment_index = static_cast<uint32_t>(s + 1);
      i.where.segment_occurrence = 1;
      break;
    }
  }
  return i;
}

// (sending application, sending facility, MSH-10): the store's dedup key.
using DedupKey = std::tuple<std::string, std::string, std::string>;

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

// A batch on its way from the resolver to the committer.
struct DurableIngest::Built {
  std::uint64_t number = 0;         // 1, 2, ... in queue order
  std::uint64_t failures_seen = 0;  // failures_ when it was built (I6)
  std::deque<Item> items;
  store::Batch batch;
  std::optional<store::StoreError> lookup_failed;  // a lookup the store could not answer
};

// The resolver's memory across batches (I6): what the batches not yet known to be committed
// wrote, and the dedup keys their accepted messages will hold.
struct DurableIngest::Resolver {
  explicit Resolver(store::Store& store) : writer(store) {}
  RecordWriter writer;
  std::map<DedupKey, std::uint64_t> held;  // dedup key -> the batch that holds it
  std::uint64_t next = 0;                  // the last batch number given out
  std::uint64_t failures_seen = 0;

  // Drops what committed batches wrote (the store shows it now), or everything after a batch
  // that was not stored (what was built on it is void).
  void catch_up(std::uint64_t committed, std::uint64_t failures) {
    if (failures != failures_seen) {
      writer.forget_all();
      held.clear();
      failures_seen = failures;
      return;
    }
    writer.forget_through(committed);
    std::erase_if(held, [committed](const auto& h) { return h.second <= committed; });
  }
};

DurableIngest::DurableIngest(store::Store& store, const mapping::ProfileStore& profiles, Options options)
    : store_(store), profiles_(profiles), options_(options) {
  committer_ = std::thread([this] { commit_loop(); });
  resolver_ = std::thread([this] { resolve_loop(); });
}

DurableIngest::~DurableIngest() { stop(); }

void DurableIngest::submit(std::string message, IngestSource source, Done done) {
  // Parse, validate and map here, outside the lock and off the writer threads: this is most of
  // the CPU per message. The queue order (taken below) is still the order of commit (I3).
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
    stopping_ = true;
    wake_.notify_all();
  }
  // The resolver finishes the queue and exits; the committer then finishes the last batch.
  if (resolver_.joinable()) resolver_.join();
  if (committer_.joinable()) committer_.join();
}

void DurableIngest::resolve_loop() {
  // Named so that per-thread CPU (top -H, /proc/PID/task, perf) tells the two pipeline stages apart.
  pthread_setname_np(pthread_self(), "ingest-resolve");
  Resolver resolver(store_);
  for (;;) {
    std::deque<Item> items;
    std::uint64_t committed = 0, failures = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // While a built batch still waits for the committer, messages gather into the next one.
      wake_.wait(lock, [this] { return !built_ && (stopping_ || !queue_.empty()); });
      if (queue_.empty()) {  // stopping, and everything submitted is built
        resolved_all_ = true;
        built_cv_.notify_all();
        return;
      }
      // Group commit (I4): take whatever is waiting, up to max_batch.
      while (!queue_.empty() && items.size() < options_.max_batch) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      committed = committed_;
      failures = failures_;
    }
    resolver.catch_up(committed, failures);
    std::unique_ptr<Built> built = build(std::move(items), resolver);
    {
      std::lock_guard<std::mutex> lock(mu_);
      built_ = std::move(built);
      built_cv_.notify_all();
    }
  }
}

void DurableIngest::commit_loop() {
  pthread_setname_np(pthread_self(), "ingest-commit");
  for (;;) {
    std::unique_ptr<Built> built;
    {
      std::unique_lock<std::mutex> lock(mu_);
      built_cv_.wait(lock, [this] { return built_ || resolved_all_; });
      if (!built_) return;  // the resolver has exited and everything built is committed
      built = std::move(built_);
      wake_.notify_all();  // the resolver may build the next batch meanwhile (I6)
    }
    commit(*built);
    // Whatever the messages held (parsed messages, records, payloads) is freed here, off the
    // resolver's thread.
  }
}

std::unique_ptr<DurableIngest::Prepared> DurableIngest::prepare(const std::string& message) const {
  // Default-initialised, not value-initialised (make_unique<Prepared>() would be): every member
  // has its own initialiser, and value-initialisation first zeroes the whole object, the
  // optional care::Record's storage of every entity type included (a memset that was about 7%
  // of a listener thread's instructions per message, for nothing).
  std::unique_ptr<Prepared> w(new Prepared);
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
    // The journal keeps only which fields went unread or ignored, not the rules that read them.
    mapping::Translation t = mapping::translate(*profiles, m, topts, mapping::LedgerDetail::kFields);
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

std::unique_ptr<DurableIngest::Built> DurableIngest::build(std::deque<Item> items, Resolver& resolver) {
  // One read snapshot for the batch's lookups (Store::read_scope) instead of one per lookup. It
  // starts after catch_up: every batch the resolver has forgotten is committed before it, and
  // the batches committing meanwhile are in the RecordWriter's memory, as without a scope.
  const std::unique_ptr<store::Store::ReadScope> snapshot = store_.read_scope();
  auto built = std::make_unique<Built>();
  built->number = ++resolver.next;
  built->failures_seen = resolver.failures_seen;
  built->items = std::move(items);
  std::deque<Item>& items_ref = built->items;
  store::Batch& batch = built->batch;
  batch.messages.reserve(items_ref.size());
  // Matches, merges and ids for every entity; it remembers what earlier messages of this batch,
  // and of the batches still committing, wrote, so that two messages about one new patient and
  // visit make one of each, changed in order (I3, I6).
  RecordWriter& writer = resolver.writer;
  writer.begin_batch(built->number);
  std::optional<store::StoreError>& lookup_failed = built->lookup_failed;
  // The dedup keys that earlier messages (of this batch or of one committing) will hold (I2).
  std::map<DedupKey, std::uint64_t>& held_in_batch = resolver.held;

  for (size_t k = 0; k < items_ref.size(); ++k) {
    Prepared& w = *items_ref[k].prepared;
    store::Message& sm = w.sm;
    const DedupKey dedup{sm.journal.sender.application, sm.journal.sender.facility, sm.journal.control_id};
    if (w.record && !lookup_failed && !sm.journal.control_id.empty()) {
      // A resend of an accepted message is journaled as a duplicate and none of its writes are
      // applied, so none may be built: the RecordWriter would count them as done, and the later
      // messages of the batch about the same entities would then expect versions that are never
      // written (their if_version fails). Decided here, exactly as the store will: a key held in
      // the store (received or accepted) or by an earlier accepted message of this batch.
      bool duplicate = held_in_batch.count(dedup) != 0;
      if (!duplicate) {
        auto original = store_.find_journal(sm.journal.sender, sm.journal.control_id);
        if (!original.ok())
          lookup_failed = original.error();
        else
          duplicate = original->has_value();
      }
      if (duplicate) {
        w.record.reset();
        // The store journals it as a duplicate. Should it not (the original earlier in this batch
        // fails in apply()), it is journaled failed and the sender asked to resend, not ACKed as
        // stored with nothing of it stored.
        sm.journal.status = store::JournalStatus::kFailed;
        sm.journal.reason = "taken for a resend of an accepted message, but the original was not stored; resend it";
        w.issues.push_back(internal_error(sm.journal.reason));
        w.outcome = AckOutcome::kError;
      }
    }
    if (w.record && !lookup_failed) {
      // Accepted by the mapping: matching reads the store, so it stays here on the writer, in
      // queue order.
      auto written = writer.write(std::move(*w.record));
      if (!written.ok()) {
        // Guessing "new" here would split one person or visit in two; treat the batch as one
        // the store could not take (I5) instead.
        lookup_failed = written.error();
      } else if (written->refused) {
        // A change the stored state cannot take (e.g. discharging a cancelled visit): AE with
        // an ERR at the field, journaled rejected (I2), nothing of it stored.
        Issue refused = record_issue(*w.message, *written->refused, Severity::kError);
        sm.journal.status = store::JournalStatus::kRejected;
        sm.journal.reason = refused.where.to_string() + ": " + refused.why;
        w.issues.push_back(std::move(refused));
        w.outcome = AckOutcome::kError;
      } else if (written->failed) {
        // The gateway cannot build a change that reads back (a stored entity it touches does not,
        // or the merged result would not): this message fails alone, AE with the reason,
        // journaled failed (I2); the rest of the batch goes on.
        Issue failed = record_issue(*w.message, *written->failed, Severity::kError);
        sm.journal.status = store::JournalStatus::kFailed;
        sm.journal.reason = written->failed->reason;
        w.issues.push_back(std::move(failed));
        w.outcome = AckOutcome::kError;
      } else {
        for (const RecordWriter::Problem& p : written->warnings) w.issues.push_back(record_issue(*w.message, p, Severity::kWarning));
        sm.writes = std::move(written->writes);
      }
    }
    w.record.reset();
    if (sm.journal.status == store::JournalStatus::kAccepted && !sm.journal.control_id.empty())
      held_in_batch[dedup] = built->number;
    w.store_index = batch.messages.size();
    batch.messages.push_back(std::move(sm));
  }

  return built;
}

void DurableIngest::commit(Built& built) {
  std::deque<Item>& items = built.items;
  bool void_batch = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    void_batch = built.failures_seen != failures_;
  }
  store::StoreResult<store::BatchResult> committed =
      built.lookup_failed ? store::StoreResult<store::BatchResult>(err(*built.lookup_failed))
      : void_batch ? store::StoreResult<store::BatchResult>(
                         err(store::StoreError{store::StoreError::Code::kIo, "an earlier batch was not stored"}))
                   : store_.apply(built.batch);
  {
    // Before the next batch is taken: the resolver then forgets what this one wrote, either
    // because the store shows it or because it never happened (I6). A void batch was built on
    // the failed one's writes, which the resolver forgets already: it counts no new failure.
    std::lock_guard<std::mutex> lock(mu_);
    if (committed.ok())
      committed_ = built.number;
    else if (!void_batch)
      ++failures_;
  }
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
          if (w.outcome != AckOutcome::kAccepted) {  // failed before the store: w.issues say why
            ack = ack_for(*w.message, w.outcome, w.issues, issues_text(w.issues));
            break;
          }
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
