#include "store/sqlite_rows.h"

#include <algorithm>

#include "store/any_entity.h"

namespace midhurst::store::sqlite {

EntityVersion entity_from_row(const Stmt& s) {
  EntityVersion v;
  parse_type_name(s.text(0), &v.type);
  v.id = s.text(1);
  v.version = s.int64(2);
  v.last_updated = s.text(3);
  v.deleted = s.int64(4) != 0;
  v.json = s.text(5);
  v.journal_seq = s.int64(6);
  v.provenance_id = s.text(7);
  return v;
}

JournalRecord journal_from_row(const Stmt& s) {
  JournalRecord r;
  r.seq = s.int64(0);
  r.entry.kind = s.text(1) == "fhir" ? PayloadKind::kFhir : PayloadKind::kHl7v2;
  r.entry.sender = Sender{s.text(2), s.text(3)};
  r.entry.control_id = s.text(4);
  r.entry.received_at = s.text(5);
  r.stored_at = s.text(6);
  r.entry.status = parse_journal_status(s.text(7)).value_or(JournalStatus::kFailed);
  r.entry.reason = s.text(8);
  r.duplicate_of = s.int64(9);
  r.entry.unmapped_json = s.text(10);
  r.entry.payload = s.text(11);
  return r;
}

OutboxItem outbox_from_row(const Stmt& s) {
  OutboxItem o;
  o.seq = s.int64(0);
  o.journal_seq = s.int64(1);
  o.message.destination = s.text(2);
  o.message.content_type = s.text(3);
  o.message.payload = s.text(4);
  const std::string state = s.text(5);
  o.state = state == "pending"     ? OutboxState::kPending
            : state == "in_flight" ? OutboxState::kInFlight
            : state == "delivered" ? OutboxState::kDelivered
                                   : OutboxState::kDead;
  o.attempts = static_cast<int>(s.int64(6));
  o.next_attempt_at = s.text(7);
  o.message.available_at = o.next_attempt_at;
  o.lease_owner = s.text(8);
  o.lease_until = s.text(9);
  o.last_error = s.text(10);
  o.created_at = s.text(11);
  o.updated_at = s.text(12);
  return o;
}

std::vector<TermRow> term_rows(const IndexTerms& terms) {
  std::vector<TermRow> rows;
  rows.reserve(terms.identifiers.size() + terms.strings.size() + terms.dates.size() +
               terms.tokens.size() + terms.refs.size());
  for (const auto& t : terms.identifiers) rows.push_back({'i', "identifier", t.value, t.system});
  for (const auto& t : terms.strings) rows.push_back({'s', t.param, t.value, ""});
  for (const auto& t : terms.dates) rows.push_back({'d', t.param, t.lo, t.hi});
  for (const auto& t : terms.tokens) rows.push_back({'t', t.param, t.code, t.system});
  for (const auto& t : terms.refs)
    rows.push_back({'r', t.param, t.target_id, std::string(type_name(t.target_type))});
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

}  // namespace midhurst::store::sqlite
