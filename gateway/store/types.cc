#include "store/types.h"

namespace midhurst::store {

const char* payload_kind_name(PayloadKind k) { return k == PayloadKind::kHl7v2 ? "hl7v2" : "fhir"; }

namespace {
constexpr const char* kJournalStatus[] = {"received", "accepted", "rejected", "duplicate", "failed"};
constexpr const char* kOutboxState[] = {"pending", "in_flight", "delivered", "dead"};
}  // namespace

const char* journal_status_name(JournalStatus s) { return kJournalStatus[static_cast<int>(s)]; }

std::optional<JournalStatus> parse_journal_status(std::string_view s) {
  for (int i = 0; i < 5; ++i)
    if (s == kJournalStatus[i]) return static_cast<JournalStatus>(i);
  return std::nullopt;
}

const char* outbox_state_name(OutboxState s) { return kOutboxState[static_cast<int>(s)]; }

EntityWrite EntityWrite::put(AnyEntity e, std::optional<std::int64_t> if_version) {
  EntityWrite w;
  w.type = type_of(e);
  w.id = header(e).id;
  w.entity = std::move(e);
  w.if_version = if_version;
  return w;
}

EntityWrite EntityWrite::remove(care::EntityType type, std::string id,
                                std::optional<std::int64_t> if_version) {
  EntityWrite w;
  w.type = type;
  w.id = std::move(id);
  w.if_version = if_version;
  return w;
}

const RetentionRule& RetentionPolicy::rule_for(const Sender& s) const {
  if (auto it = per_sender.find(s); it != per_sender.end()) return it->second;
  if (auto it = per_sender.find(Sender{s.application, ""}); it != per_sender.end()) return it->second;
  return default_rule;
}

}  // namespace midhurst::store
