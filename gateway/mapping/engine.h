// The hl7v2→care engine: one HL7v2 message in, care entities (care::Record) plus Provenance,
// issues and the field ledger out. It knows source paths, conditions, transforms and ConceptMap
// lookups; everything about ADT, PID or Patient lives in the profiles and the care model.
//
// How a message is mapped (translate):
//  1. Select the profile: every non-abstract hl7v2→care profile whose `match` holds; the highest
//     `priority` wins, then the deepest `extends` chain (a site profile beats the base it
//     extends). No match, or a tie, rejects the message (error 200 naming MSH-9).
//  2. Apply the rules in order. A leaf rule reads its source (every value, when it iterates),
//     runs its transforms and ConceptMap, falls back to its default, and writes each value to its
//     target. A group runs its inner rules once per value of its source (contexts without any
//     value are skipped), appending one target element per context; an element left incomplete
//     (a required care field missing) is dropped with a warning.
//  3. Failures: a `required` rule without a value, or a failing value of a rule that is required
//     or `"invalid": "reject"`, is an error that rejects the message (accepted = false); any
//     other failure leaves that target out with a warning. Both carry the v2 location.
//  4. Provenance: sender (MSH-3/MSH-4), control id (MSH-10), message type (MSH-9), profile
//     name and version, received time.
//  5. The ledger: every populated v2 field, as mapped (by which rules), ignored (the profile's
//     `ignore`), or unread; mapped fields also list their populated parts no rule read.
//
// Thread-safety: translate() only reads the ProfileSet and the Message; run it from many threads
// on one shared set.
#pragma once

#include <string>
#include <vector>

#include "care/record.h"
#include "hl7v2/message.h"
#include "mapping/issue.h"
#include "mapping/profile.h"

namespace midhurst::mapping {

struct LedgerEntry {
  enum class Status : std::uint8_t { kMapped, kIgnored, kUnread };
  std::string field;                // "PID-5", "OBX[2]-5"
  Status status = Status::kUnread;
  std::vector<std::string> rules;   // kMapped: the rule ids that read it ("(match)", "(provenance)" for the engine's own reads)
  std::vector<std::string> unread;  // kMapped: populated parts no rule read ("PID-5.7")
};

struct Ledger {
  std::vector<LedgerEntry> entries;  // in message order
  // Field paths with the given status.
  std::vector<std::string> fields(LedgerEntry::Status status) const;
};

const char* ledger_status_name(LedgerEntry::Status s);  // "mapped", "ignored", "unread"

struct TranslateOptions {
  std::string received_at;  // dateTime with offset for Provenance; "" = now (UTC)
  std::string journal_id;
};

// How much of the field ledger translate() builds. kFields: every populated field with its
// status, but no rule lists and no unread parts (what ingest stores: the unread and ignored
// fields); naming every rule per field is most of the ledger's cost. kNone: no ledger at all.
enum class LedgerDetail : std::uint8_t { kFull, kFields, kNone };

struct Translation {
  bool accepted = false;
  const Profile* profile = nullptr;
  care::Record record;  // the entities and their Provenance (also when rejected, for diagnosis)
  MappingIssues issues;
  Ledger ledger;
};

// Picks the profile for `message` (step 1 above). Error: why none (or no single one) applies.
Result<const Profile*, MappingIssue> select_profile(const ProfileSet& set, const hl7v2::Message& message);

// Selects the profile and maps the message.
Translation translate(const ProfileSet& set, const hl7v2::Message& message, const TranslateOptions& options = {},
                      LedgerDetail ledger = LedgerDetail::kFull);
// Maps the message with a given profile (match rules not consulted).
Translation translate_with(const Profile& profile, const hl7v2::Message& message,
                           const TranslateOptions& options = {}, LedgerDetail ledger = LedgerDetail::kFull);

// {"profile": {"name", "version"}, "accepted": bool, "record": {...}, "issues": ["..."],
//  "ledger": {"mapped": {"PID-5": ["names"]...}, "ignored": [...], "unread": [...],
//             "unreadParts": [...]}}
std::string translation_to_json(const Translation& t, bool pretty = true);

}  // namespace midhurst::mapping
