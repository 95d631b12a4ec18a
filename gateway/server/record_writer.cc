#include "server/record_writer.h"

#include <string_view>
#include <type_traits>

#include "care/codes.h"
#include "care/json.h"
#include "store/index_terms.h"

namespace midhurst::server {
namespace {

using care::EncounterStatus;
using care::EntityType;

// --- Field merging: a value present in the message replaces the stored one -------------------

template <class T>
void take(std::optional<T>& stored, const std::optional<T>& message) {
  if (message) stored = message;
}
template <class T>
void take(std::vector<T>& stored, const std::vector<T>& message) {
  if (!message.empty()) stored = message;
}
void take(std::string& stored, const std::string& message) {
  if (!message.empty()) stored = message;
}

// Identifiers are united: a message from one organisation does not drop another's.
void unite(std::vector<care::Identifier>& stored, const std::vector<care::Identifier>& message) {
  for (const care::Identifier& m : message) {
    bool found = false;
    for (care::Identifier& s : stored) {
      if (s.system == m.system && s.value == m.value) {
        s = m;
        found = true;
        break;
      }
    }
    if (!found) stored.push_back(m);
  }
}

// Death (PID-30 flag, PID-29 time, notification status) is one fact, merged as a unit so the
// result always passes the model's rule "no deceasedAt with deceased false": a message saying
// the patient is not deceased clears the stored time and notification status (keeping only what
// it carries itself); a time of death in the message replaces the stored one and lifts a stored
// "not deceased" (the flag becomes unknown, as the message left it); "deceased" without a time
// keeps the stored time.
void merge_death(care::Patient& s, const care::Patient& m) {
  if (m.deceased == false) {
    s.deceased = false;
    s.deceased_at = m.deceased_at;
    s.death_notification_status = m.death_notification_status;
    return;
  }
  if (m.deceased) s.deceased = true;
  if (!m.deceased_at.empty()) {
    s.deceased_at = m.deceased_at;
    if (s.deceased == false) s.deceased.reset();
  }
  take(s.death_notification_status, m.death_notification_status);
}

void merge(care::Patient& s, const care::Patient& m) {
  take(s.nhs_number, m.nhs_number);
  unite(s.identifiers, m.identifiers);
  take(s.names, m.names);
  take(s.birth_date, m.birth_date);
  take(s.gender, m.gender);
  take(s.stated_gender, m.stated_gender);
  merge_death(s, m);
  take(s.addresses, m.addresses);
  take(s.telecoms, m.telecoms);
  take(s.registered_gp, m.registered_gp);
  take(s.contacts, m.contacts);
  take(s.ethnic_category, m.ethnic_category);
  take(s.language, m.language);
  take(s.interpreter_required, m.interpreter_required);
}

void merge(care::EndOfLifePlan& s, const care::EndOfLifePlan& m) {
  take(s.last_amended_at, m.last_amended_at);
  take(s.planned_review_date, m.planned_review_date);
  take(s.recorded, m.recorded);
  take(s.eol_register, m.eol_register);
  take(s.consent_to_share, m.consent_to_share);
  take(s.primary_diagnosis, m.primary_diagnosis);
  take(s.other_diagnoses, m.other_diagnoses);
  take(s.prognosis, m.prognosis);
  take(s.surprise_question, m.surprise_question);
  take(s.functional_status, m.functional_status);
  take(s.disabilities, m.disabilities);
  take(s.carer, m.carer);
  take(s.preferred_place_of_care, m.preferred_place_of_care);
  take(s.preferred_place_of_death, m.preferred_place_of_death);
  take(s.cpr_decision, m.cpr_decision);
  take(s.respect, m.respect);
  take(s.adrt, m.adrt);
  take(s.advance_statement, m.advance_statement);
  take(s.lpa_health_welfare, m.lpa_health_welfare);
  take(s.anticipatory_medicines, m.anticipatory_medicines);
  take(s.wishes, m.wishes);
  take(s.key_worker, m.key_worker);
  take(s.care_team, m.care_team);
  take(s.last_year_of_life, m.last_year_of_life);
  take(s.death, m.death);
}

void merge(care::Referral& s, const care::Referral& m) {
  unite(s.identifiers, m.identifiers);
  s.status = m.status;
  take(s.recipient_status, m.recipient_status);
  s.priority = m.priority;
  take(s.priority_reason, m.priority_reason);
  take(s.categories, m.categories);
  take(s.service_type, m.service_type);
  take(s.reasons, m.reasons);
  if (m.requester != care::ReferralParty{}) s.requester = m.requester;
  if (m.recipient != care::ReferralParty{}) s.recipient = m.recipient;
  take(s.authored_on, m.authored_on);
  take(s.updated_at, m.updated_at);
  take(s.expires_at, m.expires_at);
  take(s.notes, m.notes);
  take(s.attachments, m.attachments);
  take(s.encounter, m.encounter);
}

void merge(care::RelatedPerson& s, const care::RelatedPerson& m) {
  take(s.name, m.name);
  take(s.relationships, m.relationships);
  take(s.roles, m.roles);
  take(s.telecoms, m.telecoms);
  take(s.addresses, m.addresses);
  take(s.aware_of_prognosis, m.aware_of_prognosis);
  take(s.period, m.period);
  take(s.recorded, m.recorded);
}

void merge(care::Organization& s, const care::Organization& m) {
  unite(s.identifiers, m.identifiers);
  take(s.name, m.name);
  take(s.type, m.type);
  take(s.telecoms, m.telecoms);
  take(s.addresses, m.addresses);
  take(s.part_of, m.part_of);
  take(s.active, m.active);
}

void merge(care::Practitioner& s, const care::Practitioner& m) {
  unite(s.identifiers, m.identifiers);
  take(s.names, m.names);
  take(s.telecoms, m.telecoms);
  take(s.active, m.active);
}

void merge(care::PractitionerRole& s, const care::PractitionerRole& m) {
  unite(s.identifiers, m.identifiers);
  take(s.practitioner, m.practitioner);
  take(s.organization, m.organization);
  take(s.roles, m.roles);
  take(s.specialties, m.specialties);
  take(s.professional_group, m.professional_group);
  take(s.telecoms, m.telecoms);
  take(s.period, m.period);
}

void merge(care::CareTeamMember& s, const care::CareTeamMember& m) {
  take(s.role_code, m.role_code);
  take(s.practitioner, m.practitioner);
  take(s.organization, m.organization);
  take(s.name, m.name);
  take(s.telecoms, m.telecoms);
  take(s.period, m.period);
  take(s.recorded, m.recorded);
}

// --- The encounter state machine (the table in the header) ------------------------------------

enum class Event {
  kPreAdmit,         // A05
  kAdmit,            // A01, A04
  kTransfer,         // A02
  kLeaveOut,         // A21
  kLeaveReturn,      // A22
  kDischarge,        // A03
  kUpdate,           // A08 and everything else
  kCancelAdmit,      // A11
  kCancelPreAdmit,   // A38
  kCancelTransfer,   // A12
  kCancelDischarge,  // A13
};

Event event_of(std::string_view trigger) {
  if (trigger == "A05" || trigger == "A14") return Event::kPreAdmit;
  if (trigger == "A01" || trigger == "A04") return Event::kAdmit;
  if (trigger == "A02") return Event::kTransfer;
  if (trigger == "A21") return Event::kLeaveOut;
  if (trigger == "A22") return Event::kLeaveReturn;
  if (trigger == "A03") return Event::kDischarge;
  if (trigger == "A11") return Event::kCancelAdmit;
  if (trigger == "A38") return Event::kCancelPreAdmit;
  if (trigger == "A12") return Event::kCancelTransfer;
  if (trigger == "A13") return Event::kCancelDischarge;
  return Event::kUpdate;
}

bool is_cancel(Event e) {
  return e == Event::kCancelAdmit || e == Event::kCancelPreAdmit || e == Event::kCancelTransfer ||
         e == Event::kCancelDischarge;
}

// "ADT^A02" -> "A02".
std::string trigger_of(const std::string& message_type) {
  const size_t caret = message_type.find('^');
  if (caret == std::string::npos) return "";
  return message_type.substr(caret + 1, message_type.find('^', caret + 1) - caret - 1);
}

std::string status_code(EncounterStatus s) {
  return std::string(care::describe_enum(s).values[static_cast<size_t>(s)].code);
}

// The status an event moves a stored encounter to, or nullopt when the table refuses it.
std::optional<EncounterStatus> next_status(Event e, EncounterStatus from) {
  using S = EncounterStatus;
  auto to = [&]() -> std::optional<S> {
    switch (e) {
      case Event::kPreAdmit:
        if (from == S::kPlanned) return S::kPlanned;
        break;
      case Event::kAdmit:
        if (from == S::kPlanned || from == S::kInProgress) return S::kInProgress;
        break;
      case Event::kTransfer:
      case Event::kCancelTransfer:
        if (from == S::kInProgress || from == S::kOnLeave) return from;
        break;
      case Event::kLeaveOut:
        if (from == S::kInProgress || from == S::kOnLeave) return S::kOnLeave;
        break;
      case Event::kLeaveReturn:
        if (from == S::kInProgress || from == S::kOnLeave) return S::kInProgress;
        break;
      case Event::kDischarge:
        if (from == S::kInProgress || from == S::kOnLeave || from == S::kFinished) return S::kFinished;
        break;
      case Event::kUpdate:
        if (from != S::kCancelled && from != S::kEnteredInError) return from;
        break;
      case Event::kCancelAdmit:
        if (from == S::kPlanned || from == S::kInProgress || from == S::kCancelled) return S::kCancelled;
        break;
      case Event::kCancelPreAdmit:
        if (from == S::kPlanned || from == S::kCancelled) return S::kCancelled;
        break;
      case Event::kCancelDischarge:
        if (from == S::kFinished) return S::kInProgress;
        break;
    }
    return std::nullopt;
  }();
  if (to && !care::encounter_transition_allowed(from, *to)) return std::nullopt;
  return to;
}

// The status a new encounter starts in.
EncounterStatus created_status(Event e, EncounterStatus mapped) {
  switch (e) {
    case Event::kPreAdmit: return EncounterStatus::kPlanned;
    case Event::kAdmit:
    case Event::kTransfer:
    case Event::kLeaveReturn: return EncounterStatus::kInProgress;
    case Event::kLeaveOut: return EncounterStatus::kOnLeave;
    case Event::kDischarge: return EncounterStatus::kFinished;
    default: return mapped;
  }
}

// When the event happened, from the message's own data where it says so: the transition the
// profile recorded (EVN-6, else EVN-2, else MSH-7), else the field the event is about.
std::string event_time(Event e, const care::Encounter& m, const std::string& received_at) {
  auto or_received = [&](const std::string& t) { return t.empty() ? received_at : t; };
  if (!m.status_history.empty() && m.status_history.back().period && !m.status_history.back().period->start.empty())
    return m.status_history.back().period->start;
  switch (e) {
    case Event::kAdmit: return or_received(m.period ? m.period->start : "");
    case Event::kDischarge: return or_received(m.period ? m.period->end : "");
    case Event::kLeaveOut: return or_received(m.leave_of_absence.empty() ? "" : m.leave_of_absence.back().start);
    case Event::kLeaveReturn: return or_received(m.leave_of_absence.empty() ? "" : m.leave_of_absence.back().end);
    default: return received_at;
  }
}

// The message's current location: its first active one, else its first.
const care::EncounterLocation* current_location(const care::Encounter& m) {
  for (const care::EncounterLocation& l : m.locations)
    if (l.status == care::LocationStatus::kActive) return &l;
  return m.locations.empty() ? nullptr : &m.locations.front();
}

bool same_place(const care::EncounterLocation& a, const care::EncounterLocation& b) {
  return a.site_ods == b.site_ods && a.ward == b.ward && a.room == b.room && a.bed == b.bed;
}

void close_location(care::EncounterLocation& l, const std::string& at) {
  l.status = care::LocationStatus::kCompleted;
  if (!l.period) l.period.emplace();
  if (l.period->end.empty()) l.period->end = at;
}

void reopen_location(care::EncounterLocation& l) {
  l.status = care::LocationStatus::kActive;
  if (l.period) l.period->end.clear();
  if (l.period && l.period->start.empty()) l.period.reset();
}

// Since when the encounter has been in its current status.
std::string status_since(const care::Encounter& s) {
  if (!s.status_history.empty() && s.status_history.back().period) return s.status_history.back().period->end;
  return s.period ? s.period->start : "";
}

std::string visit_text(const care::Encounter& e) {
  const care::Identifier& i = e.identifiers.front();
  return i.value + " (" + i.system + ")";
}

// Applies the message `m` (event `e` at `t`) to the stored encounter `s`; "" or why it is refused.
std::string apply_event(care::Encounter& s, const care::Encounter& m, Event e, const std::string& t,
                        const std::string& trigger) {
  const std::optional<EncounterStatus> to = next_status(e, s.status);
  if (!to)
    return trigger + " cannot apply to visit " + visit_text(s) + " in status " + status_code(s.status);
  if (e == Event::kCancelTransfer && s.locations.size() < 2)
    return trigger + " cancels a transfer, but visit " + visit_text(s) + " has no earlier location to return to";

  // Fields the visit carries in every message: present ones replace.
  unite(s.identifiers, m.identifiers);
  s.encounter_class = m.encounter_class;
  take(s.admission_method, m.admission_method);
  take(s.admission_source, m.admission_source);
  take(s.discharge_method, m.discharge_method);
  take(s.discharge_destination, m.discharge_destination);
  take(s.treatment_function, m.treatment_function);
  take(s.participants, m.participants);
  take(s.service_provider, m.service_provider);
  for (const care::ZSegmentValue& z : m.z_segments) {
    bool found = false;
    for (care::ZSegmentValue& sz : s.z_segments)
      if (sz.key == z.key) sz.value = z.value, found = true;
    if (!found) s.z_segments.push_back(z);
  }
  if (m.period) {
    if (!s.period) s.period.emplace();
    take(s.period->start, m.period->start);
    if (e != Event::kCancelDischarge) take(s.period->end, m.period->end);
  }

  if (*to != s.status) {
    care::StatusChange change;
    change.status = s.status;
    change.period = care::Period{status_since(s), t};
    if (change.period->start.empty() && change.period->end.empty()) change.period.reset();
    s.status_history.push_back(std::move(change));
    s.status = *to;
  }

  const care::EncounterLocation* here = current_location(m);
  switch (e) {
    case Event::kTransfer:
      if (here && (s.locations.empty() || !same_place(s.locations.back(), *here))) {
        if (!s.locations.empty()) close_location(s.locations.back(), t);
        care::EncounterLocation next = *here;
        next.status = care::LocationStatus::kActive;
        if (!next.period) next.period = care::Period{t, ""};
        next.period->end.clear();
        s.locations.push_back(std::move(next));
      }
      break;
    case Event::kCancelTransfer:
      s.locations.pop_back();
      reopen_location(s.locations.back());
      break;
    case Event::kDischarge:
      if (s.locations.empty() && here) s.locations.push_back(*here);
      if (!s.locations.empty()) close_location(s.locations.back(), t);
      if (!s.period) s.period.emplace();
      if (s.period->end.empty()) s.period->end = t;
      break;
    case Event::kCancelDischarge:
      if (!s.locations.empty()) reopen_location(s.locations.back());
      if (s.period) s.period->end.clear();
      if (s.period && s.period->start.empty()) s.period.reset();
      s.discharge_method.reset();
      s.discharge_destination.reset();
      break;
    case Event::kLeaveOut:
      if (s.leave_of_absence.empty() || !s.leave_of_absence.back().end.empty())
        s.leave_of_absence.push_back(care::Period{t, ""});
      break;
    case Event::kLeaveReturn:
      if (!s.leave_of_absence.empty() && s.leave_of_absence.back().end.empty()) s.leave_of_absence.back().end = t;
      break;
    default:
      if (here) {
        if (s.locations.empty()) {
          s.locations = m.locations;
        } else if (!is_cancel(e) && !same_place(s.locations.back(), *here)) {
          // A correction of where the patient is, not a move (that is an A02).
          care::EncounterLocation& last = s.locations.back();
          last.site_ods = here->site_ods;
          last.site_name = here->site_name;
          last.ward = here->ward;
          last.room = here->room;
          last.bed = here->bed;
        }
      }
      break;
  }
  return "";
}

// --- Match keys --------------------------------------------------------------------------------

std::string key(std::string_view type, std::initializer_list<std::string_view> parts) {
  std::string k(type);
  for (std::string_view p : parts) {
    k += '|';
    k += p;
  }
  return k;
}

std::vector<std::pair<std::string, std::string>> patient_keys(const care::Patient& p) {
  std::vector<std::pair<std::string, std::string>> keys;
  if (p.nhs_number && !p.nhs_number->value.empty())
    keys.emplace_back(std::string(care::codes::kNhsNumber), p.nhs_number->value);
  for (const care::Identifier& i : p.identifiers)
    if (!i.system.empty() && !i.value.empty()) keys.emplace_back(i.system, i.value);
  return keys;
}

std::string person_key(const care::RelatedPerson& r) {
  std::string k;
  if (r.name) {
    k += store::normalise_text(r.name->family);
    k += '|';
    if (!r.name->given.empty()) k += store::normalise_text(r.name->given.front());
    if (r.name->family.empty() && r.name->given.empty()) k += store::normalise_text(r.name->text);
  }
  k += '|';
  if (!r.relationships.empty() && !r.relationships.front().codings.empty())
    k += r.relationships.front().codings.front().code;
  return k;
}

std::string member_key(const care::CareTeamMember& c) {
  std::string k = std::to_string(static_cast<int>(c.role)) + '|';
  auto ref = [&](const std::optional<care::Reference>& r) {
    if (!r) return std::string();
    if (!r->id.empty()) return r->id;
    return r->identifier ? r->identifier->system + '|' + r->identifier->value : std::string();
  };
  return k + ref(c.practitioner) + '|' + ref(c.organization) + '|' + store::normalise_text(c.name);
}

// The patient's related persons that may have person_key(r): the indexed parts of that key
// (family or first given name as a prefix, the relationship code) narrow the search, so a
// patient with many contacts costs one indexed query, not a parse of every one of them.
store::Query person_query(const care::RelatedPerson& r, const std::string& patient_id) {
  store::Query q;
  q.type = EntityType::kRelatedPerson;
  q.patient = patient_id;
  if (r.name && !r.name->family.empty())
    q.family = r.name->family;
  else if (r.name && !r.name->given.empty() && !r.name->given.front().empty())
    q.given = r.name->given.front();
  if (!r.relationships.empty() && !r.relationships.front().codings.empty() &&
      !r.relationships.front().codings.front().code.empty())
    q.tokens.push_back({"relationship", "", r.relationships.front().codings.front().code});
  return q;
}

// The patient's care team members that may have member_key(c): narrowed by the practitioner and
// organisation it references by id.
store::Query member_query(const care::CareTeamMember& c, const std::string& patient_id) {
  store::Query q;
  q.type = EntityType::kCareTeamMember;
  q.patient = patient_id;
  if (c.practitioner && !c.practitioner->id.empty()) q.references.emplace_back("practitioner", c.practitioner->id);
  if (c.organization && !c.organization->id.empty()) q.references.emplace_back("organization", c.organization->id);
  return q;
}

care::Reference ref_to(EntityType type, const std::string& id) {
  care::Reference r;
  r.type = type;
  r.id = id;
  return r;
}

store::StoreError corrupt(EntityType type, const std::string& id, const std::string& why) {
  return store::StoreError{store::StoreError::Code::kCorrupt,
                           "stored " + std::string(store::type_name(type)) + "/" + id + " does not read back: " + why};
}

// Whether `merged` holds what `committed` holds, apart from the header (id, version,
// lastUpdated, Provenance) that a new version would restamp. `merged` is unchanged on return;
// its header is swapped out for the comparison instead of copying the whole entity.
template <class T>
bool same_content(T& merged, const T& committed) {
  care::Entity& header = merged;
  care::Entity own = std::move(header);
  header = static_cast<const care::Entity&>(committed);
  const bool same = merged == committed;
  header = std::move(own);
  return same;
}

// "" when `entity`, stored as version `version`, reads back (passes every check of the care
// model's JSON form), else the model's objection. The store fills lastUpdated when it writes; a
// stand-in takes its place here. `entity` is unchanged on return (checked in place, not copied).
template <class T>
std::string reads_back(T& entity, std::int64_t version) {
  const std::int64_t own_version = entity.version;
  const bool stand_in = entity.last_updated.empty();
  entity.version = version;
  if (stand_in) entity.last_updated = "2000-01-01T00:00:00Z";
  // The round trip's checks without the JSON (care/json.h), for every write of every message.
  auto checked = care::check_reads_back(entity);
  entity.version = own_version;
  if (stand_in) entity.last_updated.clear();
  return checked.ok() ? "" : checked.error().to_string();
}

}  // namespace

// --- Lookups -----------------------------------------------------------------------------------

template <class T>
store::StoreResult<std::shared_ptr<const T>> RecordWriter::parsed(EntityType type, const std::string& id,
                                                                  std::int64_t version, const std::string* json) {
  std::string k(store::type_name(type));
  k += '/';
  k += id;
  if (auto it = parsed_.find(k); it != parsed_.end() && it->second.version == version)
    return std::static_pointer_cast<const T>(it->second.entity);
  std::shared_ptr<const void> entity;
  std::size_t bytes = 0;
  if (auto old = parsed_old_.find(k); old != parsed_old_.end() && old->second.version == version) {
    entity = old->second.entity;  // used again: kept into the current generation
    bytes = old->second.bytes;
  } else {
    auto from_json = parse_stored<T>(type, id, version, json);
    if (!from_json.ok()) return err(from_json.error());
    entity = std::move(from_json->first);
    bytes = from_json->second;
  }
  if (parsed_bytes_ + bytes > kParsedCacheBytes) {
    parsed_old_ = std::move(parsed_);
    parsed_.clear();
    parsed_bytes_ = 0;
  }
  parsed_bytes_ += bytes;
  ParsedVersion& slot = parsed_[std::move(k)];
  parsed_bytes_ -= slot.bytes;  // a superseded version of the same entity
  slot = ParsedVersion{version, entity, bytes};
  return std::static_pointer_cast<const T>(std::move(entity));
}

template <class T>
store::StoreResult<std::pair<std::shared_ptr<const T>, std::size_t>> RecordWriter::parse_stored(
    EntityType type, const std::string& id, std::int64_t version, const std::string* json) {
  std::optional<store::EntityVersion> read;
  if (!json) {
    auto stored = store_.vread(type, id, version);
    if (!stored.ok()) return err(stored.error());
    // The lookup that named this version saw it current and versions are never removed, so
    // its absence means the store changed under the read scope: not a guess to build on (I5).
    if (!*stored || (*stored)->deleted)
      return err(store::StoreError{store::StoreError::Code::kConflict,
                                   "stored " + std::string(store::type_name(type)) + "/" + id + " version " +
                                       std::to_string(version) + " is gone"});
    read = std::move(*stored);
    json = &read->json;
  }
  auto from_json = care::from_json<T>(*json);
  if (!from_json.ok()) {
    unreadable_ = true;
    return err(corrupt(type, id, from_json.error().to_string()));
  }
  return std::make_pair(std::make_shared<const T>(std::move(*from_json)), json->size());
}

template <class T>
store::StoreResult<std::optional<RecordWriter::Current<T>>> RecordWriter::load(const std::string& id,
                                                                                 std::int64_t stored_version,
                                                                                 const std::string* stored_json) {
  const EntityType type = store::type_of(store::AnyEntity(T{}));
  if (auto it = batch_entities_.find({type, id}); it != batch_entities_.end())
    return std::optional<Current<T>>(Current<T>{id, std::get<T>(it->second.entity), it->second.version, nullptr});
  auto committed = parsed<T>(type, id, stored_version, stored_json);
  if (!committed.ok()) return err(committed.error());
  return std::optional<Current<T>>(Current<T>{id, **committed, stored_version, std::move(*committed)});
}

template <class T>
store::StoreResult<std::optional<RecordWriter::Current<T>>> RecordWriter::find_one(const store::Query& q) {
  auto found = store_.search_versions(q);
  if (!found.ok()) return err(found.error());
  if (found->entries.empty()) return std::optional<Current<T>>();
  const store::VersionKey& v = found->entries.front();
  return load<T>(v.id, v.version);
}

template <class T>
store::StoreResult<std::optional<RecordWriter::Current<T>>> RecordWriter::find_by_key(const std::string& k,
                                                                                        const store::Query& q) {
  if (auto found = remembered<T>(k)) return found;
  return find_one<T>(q);
}

template <class T>
std::optional<RecordWriter::Current<T>> RecordWriter::remembered(const std::string& k) const {
  auto key = batch_keys_.find(k);
  if (key == batch_keys_.end()) return std::nullopt;
  const EntityType type = store::type_of(store::AnyEntity(T{}));
  auto it = batch_entities_.find({type, key->second.id});
  // Forgotten (committed): the store has it.
  if (it == batch_entities_.end()) return std::nullopt;
  return Current<T>{key->second.id, std::get<T>(it->second.entity), it->second.version, nullptr};
}

void RecordWriter::forget_through(std::uint64_t n) {
  std::erase_if(batch_entities_, [n](const auto& e) { return e.second.batch <= n; });
  std::erase_if(batch_keys_, [n](const auto& k) { return k.second.batch <= n; });
}

void RecordWriter::forget_all() {
  batch_entities_.clear();
  batch_keys_.clear();
}

template <class T, class Pred>
store::StoreResult<std::optional<RecordWriter::Current<T>>> RecordWriter::find_in_patient(const std::string& k,
                                                                                            store::Query q,
                                                                                            Pred matches) {
  if (auto found = remembered<T>(k)) return found;
  q.count = 1000;
  q.sort = store::SortOrder::kId;
  for (;;) {
    auto page = store_.search_versions(q);
    if (!page.ok()) return err(page.error());
    for (const store::VersionKey& v : page->entries) {
      auto current = load<T>(v.id, v.version);
      if (!current.ok()) return current;
      if (matches((*current)->entity)) return current;
    }
    if (page->next_cursor.empty()) return std::optional<Current<T>>();
    q.cursor = page->next_cursor;
  }
}

// --- One message --------------------------------------------------------------------------------

struct RecordWriter::Staged {
  std::vector<std::pair<std::string, std::string>> keys;  // match key -> id
  std::vector<std::pair<std::pair<EntityType, std::string>, Known>> entities;
};

store::StoreResult<RecordWriter::Outcome> RecordWriter::write(care::Record record) {
  unreadable_ = false;
  auto written = write_record(std::move(record));
  if (written.ok() || !unreadable_) return written;
  // One stored entity that no longer reads back must not stop every batch it appears in: this
  // message fails (AE), the others go on.
  Outcome out;
  out.failed = Problem{"", 207, written.error().to_string()};
  return out;
}

store::StoreResult<RecordWriter::Outcome> RecordWriter::write_record(care::Record record) {
  Outcome out;
  Staged staged;
  const std::string provenance_id = store::new_entity_id();
  const care::Reference provenance_ref = ref_to(EntityType::kProvenance, provenance_id);
  care::Provenance* provenance = record.get<care::Provenance>();
  const std::string received_at = provenance ? provenance->received_at : "";
  const std::string trigger = provenance ? trigger_of(provenance->message_type) : "";
  const std::string event_name = provenance && !provenance->message_type.empty() ? provenance->message_type : "the message";

  // The first write of the message that would not read back once stored: the message then
  // fails alone, before anything of it reaches the batch.
  std::optional<Problem> unreadable_change;
  auto check_reads_back = [&](auto& entity, EntityType type, std::int64_t version) {
    if (unreadable_change) return;
    if (std::string why = reads_back(entity, version); !why.empty())
      unreadable_change = Problem{"", 207, "the change would leave " + std::string(store::type_name(type)) + "/" +
                                               entity.id + " unreadable (" + why + "); nothing of the message is stored"};
  };

  // Queues `entity` as version base_version + 1 and remembers it for the batch.
  auto put = [&](auto entity, const std::string& id, std::int64_t base_version, std::vector<std::string> keys) {
    using T = std::decay_t<decltype(entity)>;
    entity.id = id;
    entity.provenance = provenance_ref;
    const EntityType type = store::type_of(store::AnyEntity(T{}));
    check_reads_back(entity, type, base_version + 1);
    for (std::string& k : keys) staged.keys.emplace_back(std::move(k), id);
    staged.entities.push_back({{type, id}, Known{entity, base_version + 1, batch_}});
    out.writes.push_back(store::EntityWrite::put(std::move(entity), base_version));
  };
  // Queues a merged match, unless it equals its committed version (record_writer.h): then the
  // store keeps that version and its index rows, and nothing is remembered (the store shows it).
  auto put_merged = [&]<class T>(T entity, const std::string& id, std::int64_t base_version, std::vector<std::string> keys,
                                 const std::shared_ptr<const T>& committed) {
    if (committed && same_content(entity, *committed)) return;
    put(std::move(entity), id, base_version, std::move(keys));
  };
  auto refuse = [&](std::string field, int code, std::string reason) {
    out.writes.clear();
    out.refused = Problem{std::move(field), code, std::move(reason)};
    return out;
  };

  // Patient: by NHS number, then each local identifier.
  std::string patient_id;
  if (care::Patient* p = record.get<care::Patient>()) {
    std::optional<Current<care::Patient>> stored;
    for (const auto& [system, value] : patient_keys(*p)) {
      store::Query q;
      q.type = EntityType::kPatient;
      q.identifier = std::make_pair(system, value);
      q.count = 1;
      auto found = find_by_key<care::Patient>(key("Patient", {system, value}), q);
      if (!found.ok()) return err(found.error());
      if (*found) {
        stored = std::move(*found);
        break;
      }
    }
    std::vector<care::Reference> merged_away = std::move(p->replaces);
    p->replaces.clear();
    care::Patient patient;
    std::shared_ptr<const care::Patient> committed;
    std::int64_t base = 0;
    if (stored) {
      patient = std::move(stored->entity);
      committed = std::move(stored->committed);
      patient_id = stored->id;
      base = stored->version;
      merge(patient, *p);
    } else {
      patient = std::move(*p);
      patient_id = store::new_entity_id();
    }

    // A40: the records MRG-1 names are merged into this one (written after the survivor).
    std::vector<Current<care::Patient>> merged;
    for (const care::Reference& old_ref : merged_away) {
      std::optional<Current<care::Patient>> old;
      if (!old_ref.id.empty()) {
        auto read = store_.read(EntityType::kPatient, old_ref.id);
        if (!read.ok()) return err(read.error());
        if (*read && !(*read)->deleted) {
          auto loaded = load<care::Patient>((*read)->id, (*read)->version, &(*read)->json);
          if (!loaded.ok()) return err(loaded.error());
          old = std::move(*loaded);
        }
      } else if (old_ref.identifier && !old_ref.identifier->value.empty()) {
        const care::Identifier& i = *old_ref.identifier;
        store::Query q;
        q.type = EntityType::kPatient;
        q.identifier = std::make_pair(i.system, i.value);
        q.count = 1;
        auto found = find_by_key<care::Patient>(key("Patient", {i.system, i.value}), q);
        if (!found.ok()) return err(found.error());
        old = std::move(*found);
      }
      const std::string named = old_ref.identifier ? old_ref.identifier->value : old_ref.id;
      if (!old) {
        out.warnings.push_back({"MRG-1", 204, "no stored patient has identifier " + named + "; nothing to merge"});
        continue;
      }
      if (old->id == patient_id) continue;  // already merged into the survivor
      old->entity.replaced_by = ref_to(EntityType::kPatient, patient_id);
      bool listed = false;
      for (const care::Reference& r : patient.replaces) listed |= r.id == old->id;
      if (!listed) patient.replaces.push_back(ref_to(EntityType::kPatient, old->id));
      merged.push_back(std::move(*old));
    }
    record.erase(EntityType::kPatient);

    // RelatedPerson (NK1): resolved before the patient is written, so its contact can name it.
    std::optional<Current<care::RelatedPerson>> person;
    std::string person_k;
    if (care::RelatedPerson* r = record.get<care::RelatedPerson>()) {
      const std::string rk = person_key(*r);
      person_k = key("RelatedPerson", {patient_id, rk});
      auto found = find_in_patient<care::RelatedPerson>(person_k, person_query(*r, patient_id),
                                                        [&](const care::RelatedPerson& s) { return person_key(s) == rk; });
      if (!found.ok()) return err(found.error());
      if (*found) {
        person = std::move(*found);
        merge(person->entity, *r);
      } else {
        person = Current<care::RelatedPerson>{store::new_entity_id(), std::move(*r), 0, nullptr};
      }
      person->entity.patient = ref_to(EntityType::kPatient, patient_id);
      for (care::PatientContact& c : patient.contacts)
        if (c.name && person->entity.name && *c.name == *person->entity.name)
          c.related_person = ref_to(EntityType::kRelatedPerson, person->id);
      record.erase(EntityType::kRelatedPerson);
    }

    std::vector<std::string> keys;
    for (const auto& [system, value] : patient_keys(patient)) keys.push_back(key("Patient", {system, value}));
    put_merged(std::move(patient), patient_id, base, std::move(keys), committed);
    for (Current<care::Patient>& old : merged) {
      // Its identifiers now lead to the survivor, for the rest of the batch too.
      std::vector<std::string> old_keys;
      for (const auto& [system, value] : patient_keys(old.entity)) old_keys.push_back(key("Patient", {system, value}));
      for (std::string& k : old_keys) staged.keys.emplace_back(std::move(k), patient_id);
      put(std::move(old.entity), old.id, old.version, {});
    }
    if (person) put_merged(std::move(person->entity), person->id, person->version, {person_k}, person->committed);
  }

  const bool needs_patient = record.get<care::Encounter>() || record.get<care::Referral>() ||
                             record.get<care::EndOfLifePlan>() || record.get<care::RelatedPerson>() ||
                             record.get<care::CareTeamMember>();
  if (needs_patient && patient_id.empty())
    return refuse("PID-3", 101, "the message names no patient for its " + std::string("encounter, referral or end-of-life data"));

  // Organization by ODS code.
  if (care::Organization* o = record.get<care::Organization>()) {
    store::Query q;
    q.type = EntityType::kOrganization;
    q.identifier = std::make_pair(std::string(care::codes::kOdsOrganization), o->ods_code);
    q.count = 1;
    auto found = find_by_key<care::Organization>(key("Organization", {o->ods_code}), q);
    if (!found.ok()) return err(found.error());
    if (*found) {
      merge((*found)->entity, *o);
      put_merged(std::move((*found)->entity), (*found)->id, (*found)->version, {key("Organization", {o->ods_code})},
                 (*found)->committed);
    } else {
      const std::string ods = o->ods_code;
      put(std::move(*o), store::new_entity_id(), 0, {key("Organization", {ods})});
    }
  }

  // Practitioner and PractitionerRole by any identifier.
  auto by_identifiers = [&](auto* entity, EntityType type, std::string_view type_key) -> store::StoreStatus {
    using T = std::decay_t<decltype(*entity)>;
    std::optional<Current<T>> found;
    std::vector<std::string> keys;
    for (const care::Identifier& i : entity->identifiers) {
      if (i.system.empty() || i.value.empty()) continue;
      keys.push_back(key(type_key, {i.system, i.value}));
      if (found) continue;
      store::Query q;
      q.type = type;
      q.identifier = std::make_pair(i.system, i.value);
      q.count = 1;
      auto f = find_by_key<T>(keys.back(), q);
      if (!f.ok()) return err(f.error());
      found = std::move(*f);
    }
    if (found) {
      merge(found->entity, *entity);
      put_merged(std::move(found->entity), found->id, found->version, std::move(keys), found->committed);
    } else {
      put(std::move(*entity), store::new_entity_id(), 0, std::move(keys));
    }
    return {};
  };
  if (care::Practitioner* pr = record.get<care::Practitioner>())
    if (auto s = by_identifiers(pr, EntityType::kPractitioner, "Practitioner"); !s.ok()) return err(s.error());
  if (care::PractitionerRole* pr = record.get<care::PractitionerRole>())
    if (auto s = by_identifiers(pr, EntityType::kPractitionerRole, "PractitionerRole"); !s.ok()) return err(s.error());

  // Encounter: by visit number within the patient, through the state machine.
  std::string encounter_id;
  if (care::Encounter* m = record.get<care::Encounter>()) {
    m->patient = ref_to(EntityType::kPatient, patient_id);
    const Event e = event_of(trigger);
    if (m->identifiers.empty()) {
      out.warnings.push_back({"PV1-19", 101, "no visit number: the encounter cannot be matched and is not stored"});
    } else {
      std::optional<Current<care::Encounter>> stored;
      std::vector<std::string> keys;
      for (const care::Identifier& i : m->identifiers) {
        keys.push_back(key("Encounter", {patient_id, i.system, i.value}));
        if (stored) continue;
        store::Query q;
        q.type = EntityType::kEncounter;
        q.identifier = std::make_pair(i.system, i.value);
        q.patient = patient_id;
        q.count = 1;
        auto found = find_by_key<care::Encounter>(keys.back(), q);
        if (!found.ok()) return err(found.error());
        stored = std::move(*found);
      }
      const std::string t = event_time(e, *m, received_at);
      if (stored) {
        if (std::string why = apply_event(stored->entity, *m, e, t, event_name); !why.empty())
          return refuse("PV1-19", 207, why);
        encounter_id = stored->id;
        stored->entity.patient = m->patient;
        put_merged(std::move(stored->entity), stored->id, stored->version, std::move(keys), stored->committed);
      } else if (is_cancel(e)) {
        return refuse("PV1-19", 204, event_name + " cancels visit " + visit_text(*m) + ", which is not stored");
      } else {
        m->status = created_status(e, m->status);
        // The profile's per-event transition entry names the current status, which the model
        // keeps in `status`; the history holds earlier states only.
        m->status_history.clear();
        for (care::EncounterLocation& l : m->locations)
          if (!l.status) l.status = care::LocationStatus::kActive;
        if (e == Event::kDischarge) {
          if (!m->locations.empty()) close_location(m->locations.back(), t);
          if (!m->period) m->period.emplace();
          if (m->period->end.empty()) m->period->end = t;
        }
        if (e == Event::kLeaveOut && m->leave_of_absence.empty()) m->leave_of_absence.push_back(care::Period{t, ""});
        encounter_id = store::new_entity_id();
        put(std::move(*m), encounter_id, 0, std::move(keys));
      }
    }
  }

  // Referral: by any of its identifiers.
  if (care::Referral* r = record.get<care::Referral>()) {
    r->patient = ref_to(EntityType::kPatient, patient_id);
    if (!encounter_id.empty()) r->encounter = ref_to(EntityType::kEncounter, encounter_id);
    std::optional<Current<care::Referral>> stored;
    std::vector<std::string> keys;
    for (const care::Identifier& i : r->identifiers) {
      if (i.system.empty() || i.value.empty()) continue;
      keys.push_back(key("Referral", {i.system, i.value}));
      if (stored) continue;
      store::Query q;
      q.type = EntityType::kReferral;
      q.identifier = std::make_pair(i.system, i.value);
      q.count = 1;
      auto found = find_by_key<care::Referral>(keys.back(), q);
      if (!found.ok()) return err(found.error());
      stored = std::move(*found);
    }
    if (stored) {
      merge(stored->entity, *r);
      stored->entity.patient = r->patient;
      put_merged(std::move(stored->entity), stored->id, stored->version, std::move(keys), stored->committed);
    } else {
      if (r->authored_on.empty()) r->authored_on = received_at;
      put(std::move(*r), store::new_entity_id(), 0, std::move(keys));
    }
  }

  // EndOfLifePlan: one per patient.
  if (care::EndOfLifePlan* m = record.get<care::EndOfLifePlan>()) {
    const std::string k = key("EndOfLifePlan", {patient_id});
    store::Query q;
    q.type = EntityType::kEndOfLifePlan;
    q.patient = patient_id;
    q.count = 1;
    q.sort = store::SortOrder::kId;
    auto found = find_by_key<care::EndOfLifePlan>(k, q);
    if (!found.ok()) return err(found.error());
    if (m->last_amended_at.empty()) m->last_amended_at = received_at;
    if (*found) {
      merge((*found)->entity, *m);
      (*found)->entity.patient = ref_to(EntityType::kPatient, patient_id);
      put_merged(std::move((*found)->entity), (*found)->id, (*found)->version, {k}, (*found)->committed);
    } else {
      m->patient = ref_to(EntityType::kPatient, patient_id);
      if (m->created_at.empty()) m->created_at = received_at;
      put(std::move(*m), store::new_entity_id(), 0, {k});
    }
  }

  // CareTeamMember: by role and who, within the patient.
  if (care::CareTeamMember* c = record.get<care::CareTeamMember>()) {
    c->patient = ref_to(EntityType::kPatient, patient_id);
    const std::string mk = member_key(*c);
    const std::string k = key("CareTeamMember", {patient_id, mk});
    auto found = find_in_patient<care::CareTeamMember>(k, member_query(*c, patient_id),
                                                       [&](const care::CareTeamMember& s) { return member_key(s) == mk; });
    if (!found.ok()) return err(found.error());
    if (*found) {
      merge((*found)->entity, *c);
      put_merged(std::move((*found)->entity), (*found)->id, (*found)->version, {k}, (*found)->committed);
    } else {
      put(std::move(*c), store::new_entity_id(), 0, {k});
    }
  }

  // A message that changes nothing stored is on record in the journal only: its Provenance
  // would be cited by no version, and a FHIR Provenance needs at least one target.
  if (provenance && !out.writes.empty()) {
    provenance->id = provenance_id;
    check_reads_back(*provenance, EntityType::kProvenance, 1);
    out.writes.push_back(store::EntityWrite::put(std::move(*provenance)));
  }
  if (unreadable_change) {
    out.writes.clear();
    out.failed = std::move(unreadable_change);
    return out;
  }

  // Accepted: later messages of the batch see these versions.
  for (auto& [k, id] : staged.keys) batch_keys_[k] = KnownKey{std::move(id), batch_};
  for (auto& [at, known] : staged.entities) batch_entities_.insert_or_assign(at, std::move(known));
  return out;
}

}  // namespace midhurst::server
