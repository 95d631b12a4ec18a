// The value types of the Store interface (store.h): what goes in (a Batch of inbound messages
// with their entity writes, outbox items and audit records) and what comes out (journal records,
// entity versions, search pages, outbox items, audit records).
//
// Backend-neutral: nothing here knows SQL. Times are text in the store's canonical instant form,
// "YYYY-MM-DDThh:mm:ss.mmmZ" (UTC, fixed width, so text order is time order; a valid care-model
// dateTime). Plain values: copy and compare freely; not thread-safe to mutate concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "care/types.h"
#include "common/result.h"
#include "store/any_entity.h"

namespace midhurst::store {

// ---------------------------------------------------------------------------------------------
// Errors

struct StoreError {
  enum class Code {
    kIo,               // the database could not be opened, read or written (disk, permissions)
    kCorrupt,          // the file is not a Midhurst store, or is newer than this build
    kInvalidArgument,  // the caller broke a documented precondition (the message says which)
    kConflict,         // a version precondition or an outbox lease did not hold
    kNotFound,         // the named journal entry / outbox item does not exist
    kBusy,             // the database stayed locked longer than the busy timeout
    kInjected,         // a FaultInjection (fault.h) made the operation fail (tests only)
  };
  Code code = Code::kIo;
  std::string message;  // says what was being done, on which path/id, and why
  std::string to_string() const { return message; }
};

template <class T>
using StoreResult = Result<T, StoreError>;
using StoreStatus = Status<StoreError>;

// ---------------------------------------------------------------------------------------------
// Journal

enum class PayloadKind { kHl7v2, kFhir };
const char* payload_kind_name(PayloadKind k);  // "hl7v2", "fhir"

// received: journaled, processing not yet complete (set_journal_status finishes it);
// accepted: processed, its changes committed with it; rejected: refused as bad input (AR/4xx);
// duplicate: the dedup key was already held, nothing changed; failed: could not be processed
// (AE/5xx, or its writes failed inside apply(): see MessageOutcome).
enum class JournalStatus { kReceived, kAccepted, kRejected, kDuplicate, kFailed };
const char* journal_status_name(JournalStatus s);
std::optional<JournalStatus> parse_journal_status(std::string_view s);

// The sender of a payload: HL7v2 MSH-3 / MSH-4, or the FHIR client and its organisation.
struct Sender {
  std::string application;
  std::string facility;
  auto operator<=>(const Sender&) const = default;
};

// One inbound payload as the caller hands it to apply().
struct JournalEntry {
  PayloadKind kind = PayloadKind::kHl7v2;
  std::string payload;  // raw bytes, exactly as received
  Sender sender;
  // MSH-10 or the FHIR request id. The dedup key is (sender.application, sender.facility,
  // control_id); an empty control_id is never deduplicated.
  std::string control_id;
  std::string received_at;  // dateTime as the receiver saw it; empty = the store's clock
  JournalStatus status = JournalStatus::kAccepted;  // REQUIRES: not kDuplicate (the store decides)
  std::string reason;         // why rejected/failed; free text
  std::string unmapped_json;  // the mapping engine's unmapped-field ledger, JSON text; "" = "[]"
};

// A journal row as stored.
struct JournalRecord {
  std::int64_t seq = 0;  // > 0, increasing in commit order
  JournalEntry entry;
  std::string stored_at;  // canonical instant of the commit
  std::int64_t duplicate_of = 0;  // kDuplicate: seq of the entry holding the key, else 0
};

// ---------------------------------------------------------------------------------------------
// Entity writes and versions

// One change to one entity. put(): a new version with the given content; remove(): a tombstone
// version (reads then answer deleted, FHIR 410). The store assigns version and lastUpdated
// (whatever the entity holds there is overwritten) and an id when the entity's id is empty
// (new_entity_id() lets the caller pick ids first, to reference them within one batch).
struct EntityWrite {
  care::EntityType type = care::EntityType::kPatient;
  std::string id;                      // put(): copied from the entity
  std::optional<AnyEntity> entity;     // nullopt = tombstone
  // Version precondition (FHIR If-Match): the current version must be this; 0 = must not exist
  // (create). nullopt = no precondition.
  std::optional<std::int64_t> if_version;

  static EntityWrite put(AnyEntity e, std::optional<std::int64_t> if_version = std::nullopt);
  static EntityWrite remove(care::EntityType type, std::string id,
                            std::optional<std::int64_t> if_version = std::nullopt);
};

// A message for later delivery (the outbox, FORMAT.md), enqueued in the same transaction as the
// change that caused it.
struct OutboxMessage {
  std::string destination;   // delivery channel name, e.g. "hospice-fhir"; required
  std::string content_type;  // e.g. "application/fhir+json", "x-application/hl7-v2+er7"
  std::string payload;
  std::string available_at;  // first attempt not before this instant; "" = now
};

// Who did what with patient data (served later as FHIR AuditEvent).
struct AuditRecord {
  std::int64_t seq = 0;   // assigned by the store
  std::string time;       // "" = the store's clock
  std::string client;     // authenticated client name, or the sender for inbound messages
  std::string interaction;  // "read", "search-type", "vread", "history", "create", "ingest"...
  std::string outcome;      // "success", or the error status/code
  std::vector<std::string> patients;  // gateway ids of the patients touched
  std::string detail;       // e.g. the request path; free text
  bool operator==(const AuditRecord&) const = default;
};

// One inbound payload and everything it causes. apply() commits all or nothing of it.
struct Message {
  JournalEntry journal;
  std::vector<EntityWrite> writes;    // REQUIRES: empty unless journal.status is accepted
  std::vector<OutboxMessage> outbox;  // REQUIRES: empty unless journal.status is accepted
};

// What apply() commits in one transaction (one fsync): the caller's group commit.
struct Batch {
  std::vector<Message> messages;
  std::vector<AuditRecord> audit;
};

struct WrittenVersion {
  care::EntityType type = care::EntityType::kPatient;
  std::string id;
  std::int64_t version = 0;
  std::string last_updated;
  bool deleted = false;
};

struct MessageOutcome {
  std::int64_t journal_seq = 0;  // the journal row recorded for this message
  // kAccepted/kRejected/kReceived: as given. kDuplicate: the key was held by `duplicate_of`,
  // whose status is `original_status`; nothing else of the message was applied. kFailed: as
  // given, or its writes failed (version conflict, bad reference) and were rolled back: `reason`.
  JournalStatus status = JournalStatus::kAccepted;
  std::string reason;
  std::int64_t duplicate_of = 0;
  JournalStatus original_status = JournalStatus::kAccepted;
  std::vector<WrittenVersion> versions;  // kAccepted: one per write, in order
};

struct BatchResult {
  std::vector<MessageOutcome> messages;  // one per Batch::messages, same order
};

// One stored version of an entity.
struct EntityVersion {
  care::EntityType type = care::EntityType::kPatient;
  std::string id;
  std::int64_t version = 0;
  std::string last_updated;
  bool deleted = false;       // a tombstone: json is empty
  std::string json;           // the care JSON form (care/json.h), id/version/lastUpdated set
  std::int64_t journal_seq = 0;  // the message that wrote it; 0 when none
  std::string provenance_id;     // the Provenance of this version; "" when none
};

// One version of an entity, by key (Store::cited_by).
struct VersionKey {
  care::EntityType type = care::EntityType::kPatient;
  std::string id;
  std::int64_t version = 0;
  bool operator==(const VersionKey&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Search

// FHIR date prefixes (https://hl7.org/fhir/R4/search.html#prefix) with FHIR's range semantics:
// a value's range (e.g. birth date "1950" = all of 1950) is compared with the query's range.
enum class DatePrefix { kEq, kNe, kLt, kGt, kLe, kGe };
struct DateParam {
  DatePrefix prefix = DatePrefix::kEq;
  std::string value;  // a date or dateTime (care model format); bad text is kInvalidArgument
};

struct TokenParam {
  std::string param;   // an indexed token parameter of the type (index_terms.h), e.g. "status"
  std::string system;  // "" = any system
  std::string code;    // "" = any code of `system` (FHIR `system|`); REQUIRES system or code
};

// The alternatives of one criterion (FHIR's comma: `status=planned,in-progress`), met when any
// one holds. Repeating a parameter (AND) gives several criteria.
struct IdentifierParam {
  std::string system;  // "" = any system
  std::string value;   // "" = any value of `system`; REQUIRES system or value
};
struct ReferenceParam {
  std::string param;   // e.g. "requester"
  std::string target;  // the target's gateway id
};
struct StringParam {
  std::string param;   // "name", "family" or "given"
  std::string prefix;  // case- and accent-insensitive prefix
};

enum class SortOrder {
  kLastUpdated,      // oldest first, then id: new and updated entities go to the end
  kLastUpdatedDesc,  // newest first, then id descending
  kId,               // by gateway id
};

// A search over the current versions of one entity type; every given criterion must hold (AND);
// repeated criteria in one vector are ANDed too. Deleted entities never match.
struct Query {
  care::EntityType type = care::EntityType::kPatient;
  std::vector<std::string> ids;  // _id: any of these
  // identifier=system|value ("" system = any). For Patient, an identifier of a merged-away
  // record finds its survivor instead (A40; the merged-away record itself is not returned).
  std::optional<std::pair<std::string, std::string>> identifier;
  // References: the entity's "patient" reference is this patient id or one merged into it.
  std::string patient;
  // Other references by parameter name (e.g. "requester", "general-practitioner") -> target id.
  std::vector<std::pair<std::string, std::string>> references;
  // Name prefixes, case- and accent-insensitive (normalise_text in index_terms.h).
  std::string name;    // any name part (family, given, text)
  std::string family;
  std::string given;
  std::vector<DateParam> birthdate;
  std::vector<DateParam> date;  // the type's clinical date (Encounter period, Referral authored)
  std::vector<DateParam> last_updated;
  std::string gender;  // AdministrativeGender code
  std::vector<TokenParam> tokens;
  // OR lists: each inner vector is one criterion met when ANY of its alternatives holds (an
  // empty one matches nothing); the criteria are ANDed with each other and with the above.
  // Token alternatives may name different parameters (a planner translating one FHIR code into
  // whichever care terms render it). Patient identifiers find merged-away records' survivors,
  // as `identifier` does; patients: the "patient" reference names any of the ids (or a record
  // merged into one of them).
  std::vector<std::vector<IdentifierParam>> any_identifiers;
  std::vector<std::vector<std::string>> any_patients;
  std::vector<std::vector<ReferenceParam>> any_references;
  std::vector<std::vector<StringParam>> any_strings;
  std::vector<std::vector<TokenParam>> any_tokens;
  SortOrder sort = SortOrder::kLastUpdated;
  int count = 50;       // page size, 1..1000
  std::string cursor;   // "" = first page, else Page::next_cursor / prev_cursor of this query
};

struct Page {
  std::vector<EntityVersion> entries;
  // Keyset cursors: they name a position in the sort order (not an offset), so inserts and
  // deletes elsewhere never shift a page; "" = no such page.
  std::string next_cursor;
  std::string prev_cursor;
};

// A Page without the bodies: each entity's current version by key (Store::search_versions).
struct VersionPage {
  std::vector<VersionKey> entries;
  std::string next_cursor;  // as Page's
  std::string prev_cursor;
};

struct HistoryQuery {
  std::string since;   // only versions with lastUpdated >= since (a dateTime); "" = all
  int count = 50;      // 1..1000
  std::string cursor;  // "" = newest first page, else HistoryPage::next_cursor
};

struct HistoryPage {
  std::vector<EntityVersion> entries;  // newest first
  std::string next_cursor;             // "" = no older versions
};

// ---------------------------------------------------------------------------------------------
// Outbox (state machine and invariants: FORMAT.md)

enum class OutboxState { kPending, kInFlight, kDelivered, kDead };
const char* outbox_state_name(OutboxState s);  // "pending", "in_flight", "delivered", "dead"

struct OutboxItem {
  std::int64_t seq = 0;
  std::int64_t journal_seq = 0;  // the message that caused it; 0 when none
  OutboxMessage message;
  OutboxState state = OutboxState::kPending;
  int attempts = 0;               // claims so far
  std::string next_attempt_at;    // pending: not claimable before
  std::string lease_owner;        // in_flight: the worker holding it
  std::string lease_until;        // in_flight: claimable by others after
  std::string last_error;
  std::string created_at;
  std::string updated_at;
};

// ---------------------------------------------------------------------------------------------
// Retention

struct RetentionRule {
  std::optional<std::chrono::seconds> max_age;  // prune entries stored longer ago than this
  std::optional<std::int64_t> max_bytes;        // keep at most this many payload bytes
};

// Which rule applies to a sender: the exact (application, facility) entry, else the
// (application, "") entry, else default_rule. The limits are per sender.
struct RetentionPolicy {
  RetentionRule default_rule;
  std::map<Sender, RetentionRule> per_sender;
  const RetentionRule& rule_for(const Sender& s) const;
};

struct PruneStats {
  std::int64_t entries = 0;
  std::int64_t bytes = 0;
};

// The store's canonical instant text for a time point: "YYYY-MM-DDThh:mm:ss.mmmZ".
std::string format_instant(std::chrono::system_clock::time_point t);

}  // namespace midhurst::store
