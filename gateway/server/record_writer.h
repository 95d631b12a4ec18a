// RecordWriter: turns the care Record mapped from one inbound message into the store writes
// that apply it to what is already stored — matching each entity to its stored version, filling
// references with gateway ids, and merging where a message is partial by nature.
//
// One RecordWriter serves a group-commit batch (DurableIngest), or a run of them (below): it
// remembers what the earlier messages wrote, because the store only shows committed state, so
// that two messages about one new patient and visit make one Patient and one Encounter, and a
// second change to an entity builds on the first (I3 of durable_ingest.h, for every type).
// Every write carries if_version = the version it was built on (0 for a new entity): should an
// earlier message of the batch fail inside apply() and roll back, or another writer (the FHIR
// API) change the entity meanwhile, the message built on it fails too instead of overwriting.
//
// Matching (what Store::search can find, index_terms.h):
//   Patient          NHS number, then each local identifier (an identifier of a merged-away
//                    record finds its survivor)
//   Encounter        a visit number (identifier system|value) within the patient; an Encounter
//                    without identifiers is not stored (a warning names PV1-19)
//   Referral         any of its identifiers (UBRN, sender's or receiver's reference), else new
//   EndOfLifePlan    one per patient: the plan whose patient is the patient
//   RelatedPerson    the patient's related person with the same name (family and first given,
//                    case- and accent-insensitive) and the same first relationship code
//   Organization     ODS code;  Practitioner, PractitionerRole: any identifier, else new
//   CareTeamMember   the patient's member with the same role and practitioner/organisation/name
//
// Merging with the stored version (a field "present" = a non-empty value in the message):
//   Patient          what the message carries replaces the stored value field by field (PID is
//                    the whole truth for what it carries: a list such as addresses is replaced
//                    whole); a field the message leaves empty keeps its stored value (an empty
//                    HL7v2 field means "no information", so a registered GP survives a message
//                    without PD1). Identifiers are united (another trust's MRN is not dropped).
//                    replacedBy/replaces change only through a merge. Death (PID-30 flag,
//                    PID-29 time, notification status) merges as one unit, because the model
//                    refuses deceasedAt with deceased false: "not deceased" clears the stored
//                    time and status; a time replaces the stored one and lifts a stored "not
//                    deceased" to unknown; "deceased" without a time keeps the stored time.
//   EndOfLifePlan    each item present in the message replaces that item; absent ones are kept;
//                    createdAt stays the first one's; lastAmendedAt = the message's or its receipt.
//   Referral, RelatedPerson, Organization, Practitioner, PractitionerRole, CareTeamMember:
//                    present fields replace, identifiers are united.
//   Encounter        the ADT state machine below.
// A match whose merged result equals its committed version (apart from id, version, lastUpdated
// and Provenance) gets no new version: a repeated A08, or the same NK1 in every message, changes
// nothing, so nothing is written and its search terms stay as they are. This holds only when the
// base is the committed version read from the store; a base this writer remembers from a batch
// still committing is written as a new version anyway, so that its if_version ties the message
// to the write it was built on (should that write fail, this message fails too instead of being
// ACKed with its content never stored).
//
// Encounter state machine. The event is the trigger of the Provenance's message type (ADT^A02 ->
// A02); status and locations follow the table, whatever status the profile mapped (A08 never
// changes the status). Cells: "->S" moves to status S (the old status and its period are appended
// to statusHistory), "=" updates in place, "refuse" rejects the message: ACK AE with an ERR at
// PV1-19 saying why, journaled rejected, nothing of the message stored.
//
//   event                    | none        | planned | in-progress | onleave | finished | cancelled, e-i-e
//   A05, A14 pre-admit       | create      | =       | refuse      | refuse  | refuse   | refuse
//   A01, A04 admit/register  | create      | ->in-pr | =           | refuse  | refuse   | refuse
//   A02 transfer             | create      | refuse  | = new loc.  | = new l.| refuse   | refuse
//   A21 leave out            | create      | refuse  | ->onleave   | =       | refuse   | refuse
//   A22 leave return         | create      | refuse  | =           | ->in-pr | refuse   | refuse
//   A03 discharge            | create      | refuse  | ->finished  | ->fin.  | =        | refuse
//   A08 and any other event  | create      | =       | =           | =       | =        | refuse
//   A11 cancel admit         | refuse      | ->canc. | ->cancelled | refuse  | refuse   | = (cancelled)
//   A38 cancel pre-admit     | refuse      | ->canc. | refuse      | refuse  | refuse   | = (cancelled)
//   A12 cancel transfer      | refuse      | refuse  | = undo loc. | = undo  | refuse   | refuse
//   A13 cancel discharge     | refuse      | refuse  | refuse      | refuse  | ->in-pr  | refuse
// ("create" uses the event's status: A05 planned, A01/A04/A02/A22 in-progress, A21 onleave,
// A03 finished, others as mapped.) Every move is also checked with
// care::encounter_transition_allowed. Locations: the message's current location (its first
// active one, else its first) is compared by site, ward, room and bed with the stored last one;
// A02 to a different place completes the last (end = the event time) and appends the new one
// (active); A12 removes the last and reopens the one before (refused when there is none); A03
// completes the last; A13 reopens it; other events fill an empty list, or correct the last
// location's place in place. A21 appends a leave period, A22 ends the open one. A03 sets
// period.end (PV1-45, else the event time); A13 clears it and the discharge method and
// destination. The event time is the start of the transition the profile maps into the
// message's statusHistory (EVN-6, else EVN-2, else MSH-7), else PV1-44 for A01/A04, PV1-45 for
// A03, the leave's start/end for A21/A22, else the Provenance's receivedAt. The message's own
// statusHistory entry is not copied: the stored history holds earlier states only (MODEL.md).
// Other encounter fields: present ones replace, identifiers and Z-segment values (by key) unite.
//
// A40 merge: the message's Patient (PID) is the survivor; each entry of its `replaces` that
// names a record by identifier (MRG-1, mapped to patient.replaces[].identifier) is looked up; a
// stored record found there gets a new version with replacedBy = the survivor (the store then
// records the merge link: reads of the old id answer with it, searches by its identifiers find
// the survivor), and the survivor lists it in `replaces`. A merged-away record that is not stored
// is a warning at MRG-1 (nothing to merge); one that is already the survivor changes nothing.
//
// Pipelining (DurableIngest): one RecordWriter may serve consecutive batches, building batch n+1
// while batch n commits. What it remembers is tagged with the batch that wrote it
// (begin_batch); once a batch has committed, forget_through drops what it wrote (the store shows
// it now, and the memory would otherwise grow); forget_all drops everything (a batch the store
// could not commit: whatever was built on its writes is void). A RecordWriter that is never told
// of batches remembers everything for its lifetime, as one batch.
//
// Parsed stored versions: a stored entity is read as JSON and parsed into the care model
// before it is merged, and a feed names the same patients and visits again and again (A01, then
// A02s, A08s, A03). A (type, id, version) is never rewritten, so the parse of each committed
// version read is kept, keyed by it, and reused while the store still returns that version.
// So the lookups ask the store for version keys only (Store::search_versions), and the body of
// a version is read (vread) and parsed only when no parse of it is kept.
// It is bounded (kParsedCacheBytes of stored JSON per generation, two generations: what was
// not used during the last generation is dropped) and holds nothing the store did not return.
//
// Not thread-safe: used by the ingest's resolving thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "care/record.h"
#include "store/store.h"

namespace midhurst::server {

class RecordWriter {
 public:
  // `store` must outlive this object. One RecordWriter per batch.
  explicit RecordWriter(store::Store& store) : store_(store) {}

  // A problem with one value of the message: the HL7v2 field it came from ("PV1-19", "MRG-1"),
  // its HL7 table 0357 code (204 unknown key, 207 a change the stored state cannot take, 101 a
  // missing key) and why.
  struct Problem {
    std::string field;
    int code = 207;
    std::string reason;
  };

  struct Outcome {
    std::vector<store::EntityWrite> writes;  // in order: the message's whole change
    std::optional<Problem> refused;          // set: store nothing of the message (AE, rejected)
    // Set: store nothing of the message (AE, journaled failed): the gateway cannot build a change
    // that reads back — a stored entity it touches does not, or the merged result would not.
    std::optional<Problem> failed;
    std::vector<Problem> warnings;           // accepted anyway; reported in the ACK's ERR
  };

  // Resolves, merges and builds the writes for `record` (its Provenance included), and
  // remembers them for the later messages of the batch when accepted. An error means a lookup
  // the store could not answer: guessing "new" would split one person or visit in two, so the
  // caller must treat the batch as not storable (I5). A stored entity that does not read back
  // (its JSON fails the model's checks), or a write that would not (every write is checked
  // against the model before it joins the batch), fails only this message (`failed`, code 207).
  store::StoreResult<Outcome> write(care::Record record);

  // Tags what later write() calls remember as batch `n`'s (n grows from batch to batch).
  void begin_batch(std::uint64_t n) { batch_ = n; }
  // Forgets what batches up to `n` wrote and no later batch rewrote: they are committed.
  void forget_through(std::uint64_t n);
  // Forgets everything remembered.
  void forget_all();

 private:
  // An entity as this batch sees it: the stored or batch-written content and its version
  // (0 = nothing stored yet).
  template <class T>
  struct Current {
    std::string id;
    T entity;
    std::int64_t version = 0;
    // The committed version as read from the store, when that is where `entity` came from (not
    // from this writer's memory of a batch still committing): a merge that leaves it unchanged
    // needs no new version. Shared with the cache of parsed versions (never changed).
    std::shared_ptr<const T> committed;
  };

  struct Known {
    store::AnyEntity entity;
    std::int64_t version = 0;
    std::uint64_t batch = 0;  // the batch that wrote it (begin_batch)
  };
  struct KnownKey {
    std::string id;
    std::uint64_t batch = 0;
  };

  // What write() decides for one message, applied to the batch state only when accepted.
  struct Staged;

  store::StoreResult<Outcome> write_record(care::Record record);
  // `stored_json`: the version's body when the caller has read it; else it is read only when
  // no parse of the version is kept.
  template <class T>
  store::StoreResult<std::optional<Current<T>>> load(const std::string& id, std::int64_t stored_version,
                                                     const std::string* stored_json = nullptr);
  // Stored version `version` of type/id, or its earlier parse (see above); parsed from `json`,
  // or from the store's body of the version when json is null.
  template <class T>
  store::StoreResult<std::shared_ptr<const T>> parsed(care::EntityType type, const std::string& id,
                                                      std::int64_t version, const std::string* json);
  // The parse of that version and the size of its JSON (parsed()'s work on a miss).
  template <class T>
  store::StoreResult<std::pair<std::shared_ptr<const T>, std::size_t>> parse_stored(care::EntityType type,
                                                                                   const std::string& id,
                                                                                   std::int64_t version,
                                                                                   const std::string* json);
  template <class T>
  store::StoreResult<std::optional<Current<T>>> find_one(const store::Query& q);
  template <class T>
  store::StoreResult<std::optional<Current<T>>> find_by_key(const std::string& key, const store::Query& q);
  // What this writer remembers under match key `k`, when it still remembers the entity.
  template <class T>
  std::optional<Current<T>> remembered(const std::string& k) const;
  // The first entity `matches` accepts among those `q` finds (q.type and q.patient set, and any
  // indexed criteria the match implies, so that only candidates are read and parsed).
  template <class T, class Pred>
  store::StoreResult<std::optional<Current<T>>> find_in_patient(const std::string& key, store::Query q, Pred matches);

  store::Store& store_;
  std::map<std::pair<care::EntityType, std::string>, Known> batch_entities_;  // by type and id
  std::map<std::string, KnownKey> batch_keys_;  // match key (see keys in the .cc) -> id
  std::uint64_t batch_ = 0;  // the current batch (begin_batch)
  bool unreadable_ = false;  // the current write() met a stored entity that does not read back

  // The cache of parsed stored versions, by "Type/id": the version parsed and the entity (a T of
  // that type). Two generations; each holds up to kParsedCacheBytes of the versions' JSON.
  struct ParsedVersion {
    std::int64_t version = 0;
    std::shared_ptr<const void> entity;
    std::size_t bytes = 0;
  };
  static constexpr std::size_t kParsedCacheBytes = std::size_t{4} << 20;
  std::unordered_map<std::string, ParsedVersion> parsed_;      // the current generation
  std::unordered_map<std::string, ParsedVersion> parsed_old_;  // the one before
  std::size_t parsed_bytes_ = 0;                               // JSON bytes in parsed_
};

}  // namespace midhurst::server
