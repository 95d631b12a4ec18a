// The canonical care-coordination model: the entities of the design ("The canonical
// care-coordination model") with every end-of-life item of domain.md sections 0 and 6.6.
//
// This module knows nothing of HL7v2 or FHIR: field names are the model's own, and codes are
// kept as the sources sent them (CodeableConcept) or as closed enums whose values carry their
// SNOMED CT / NHS Data Dictionary meaning (see MODEL.md for each field and code).
//
// Every entity derives from Entity: a stable gateway id, a version (1 for the first, +1 on each
// change; the store keeps older versions), lastUpdated, and a Reference to the Provenance that
// produced this version. Clinical assertions carry a Recorded (who, when, source, status,
// review date).
//
// Plain value types: copy, compare with ==, serialise with json.h. Not thread-safe to mutate
// concurrently, like any value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "care/types.h"

namespace midhurst::care {

// Header fields shared by every entity (not itself an entity).
struct Entity {
  std::string id;             // required: stable gateway id, never reused
  std::int64_t version = 1;   // required, >= 1
  std::string last_updated;   // required: dateTime this version was stored
  std::optional<Reference> provenance;  // the Provenance of this version
  bool operator==(const Entity&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Patient (domain.md 6.1)

struct NhsNumber {
  std::string value;  // required: 10 digits, no spaces, passes Modulus 11 (nhs_number.h)
  std::optional<Coding> verification_status;  // UKCore-NHSNumberVerificationStatusEngland 01-08
  bool operator==(const NhsNumber&) const = default;
  static const StructInfo& describe();
};

enum class AdministrativeGender { kMale, kFemale, kOther, kUnknown };
const EnumInfo& describe_enum(AdministrativeGender);

struct RegisteredGp {
  std::string practice_ods;  // GP practice ODS code (PD1-3.3), e.g. Y06601
  std::string gp_gmp;        // GP's GMP code (PD1-4.1), G + 7 digits
  std::optional<Reference> practice;      // the Organization, when resolved
  std::optional<Reference> practitioner;  // the Practitioner, when resolved
  std::optional<Period> period;
  bool operator==(const RegisteredGp&) const = default;
  static const StructInfo& describe();
};

struct PatientContact {
  std::vector<CodeableConcept> relationships;  // NK1-3, UKCore-PersonRelationshipType
  std::optional<bool> next_of_kin;
  std::optional<HumanName> name;
  std::vector<ContactPoint> telecoms;
  std::optional<Address> address;
  std::optional<Reference> related_person;  // the RelatedPerson entity, when one exists
  std::optional<Period> period;
  bool operator==(const PatientContact&) const = default;
  static const StructInfo& describe();
};

struct Patient : Entity {
  std::optional<NhsNumber> nhs_number;
  std::vector<Identifier> identifiers;  // local MRNs per organisation and other ids
  std::vector<HumanName> names;
  std::string birth_date;  // date
  std::optional<AdministrativeGender> gender;
  std::optional<Coding> stated_gender;  // NHS DD Person Stated Gender code as sent (1/2/9/X)
  std::optional<bool> deceased;
  std::string deceased_at;  // dateTime
  std::optional<Coding> death_notification_status;
  std::vector<Address> addresses;
  std::vector<ContactPoint> telecoms;
  std::optional<RegisteredGp> registered_gp;
  std::vector<PatientContact> contacts;
  std::optional<CodeableConcept> ethnic_category;
  std::optional<CodeableConcept> language;
  std::optional<bool> interpreter_required;
  std::optional<Reference> replaced_by;  // this record was merged into that one (A40)
  std::vector<Reference> replaces;       // records merged into this one
  bool operator==(const Patient&) const = default;
  static const StructInfo& describe();
};

// ---------------------------------------------------------------------------------------------
// RelatedPerson (6.2)

enum class RelatedPersonRole { kMainCarer, kNextOfKin, kLpaHealthWelfare, kDecisionInvolved, kEmergencyContact };
const EnumInfo& describe_enum(RelatedPersonRole);

struct RelatedPerson : Entity {
  Reference patient;
  std::optional<HumanName> name;
  std::vector<CodeableConcept> relationships;
  std::vector<RelatedPersonRole> roles;
  std::vector<ContactPoint> telecoms;
  std::vector<Address> addresses;
  std::optional<CodeableConcept> aware_of_prognosis;
  std::optional<Period> period;
  std::optional<Recorded> recorded;
  bool operator==(const RelatedPerson&) const = default;
  static const StructInfo& describe();
};

// ---------------------------------------------------------------------------------------------
// Organization, Practitioner, PractitionerRole, CareTeamMember (6.3)

struct Organization : Entity {
  std::string ods_code;  // required
  std::vector<Identifier> identifiers;
  std::string name;
  std::optional<CodeableConcept> type;
  std::vector<ContactPoint> telecoms;
  std::vector<Address> addresses;
  std::optional<Reference> part_of;
  std::optional<bool> active;
  bool operator==(const Organization&) const = default;
  static const StructInfo& describe();
};

struct Practitioner : Entity {
  std::vector<Identifier> identifiers;  // GMC, GMP, NMC, HCPC, GPhC, SDS user id
  std::vector<HumanName> names;
  std::vector<ContactPoint> telecoms;
  std::optional<bool> active;
  bool operator==(const Practitioner&) const = default;
  static const StructInfo& describe();
};

struct PractitionerRole : Entity {
  std::vector<Identifier> identifiers;  // SDS role profile id
  std::optional<Reference> practitioner;
  std::optional<Reference> organization;
  std::vector<CodeableConcept> roles;
  std::vector<CodeableConcept> specialties;
  std::optional<CodeableConcept> professional_group;
  std::vector<ContactPoint> telecoms;
  std::optional<Period> period;
  bool operator==(const PractitionerRole&) const = default;
  static const StructInfo& describe();
};

enum class CareTeamRole {
  kKeyWorker,
  kGp,
  kDistrictNurseTeam,
  kSpecialistPalliativeCareNurse,
  kPalliativeCarePhysician,
  kConsultant,
  kOther,
};
const EnumInfo& describe_enum(CareTeamRole);

struct CareTeamMember : Entity {
  Reference patient;
  CareTeamRole role = CareTeamRole::kOther;
  std::optional<CodeableConcept> role_code;  // the role as coded by the source (SNOMED)
  std::optional<Reference> practitioner;
  std::optional<Reference> organization;
  std::string name;  // free text when no practitioner/organisation can be referenced
  std::vector<ContactPoint> telecoms;
  std::optional<Period> period;
  std::optional<Recorded> recorded;
  bool operator==(const CareTeamMember&) const = default;
  static const StructInfo& describe();
};

// ---------------------------------------------------------------------------------------------
// Encounter (6.4)

enum class EncounterClass { kInpatient, kOutpatient, kEmergency, kCommunity, kPreAdmission };
const EnumInfo& describe_enum(EncounterClass);

// The states of the ADT state machine (domain.md section 0); transitions: encounter_transition_allowed.
enum class EncounterStatus { kPlanned, kInProgress, kOnLeave, kFinished, kCancelled, kEnteredInError };
const EnumInfo& describe_enum(EncounterStatus);

// Whether an ADT event may move an encounter from `from` to `to` (the table in MODEL.md):
// planned -> in-progress (A01/A04) or cancelled (A38/A11); in-progress <-> onleave (A21/A22);
// in-progress|onleave -> finished (A03); in-progress -> cancelled (A11); finished -> in-progress
// (A13); any -> entered-in-error; and any state to itself (A08 update, A02 transfer).
bool encounter_transition_allowed(EncounterStatus from, EncounterStatus to);

enum class LocationStatus { kPlanned, kActive, kCompleted };
const EnumInfo& describe_enum(LocationStatus);

struct EncounterLocation {
  std::string site_ods;  // ODS site code (PV1-3.4 / PL.11)
  std::string site_name;
  std::string ward;
  std::string room;
  std::string bed;
  std::optional<LocationStatus> status;
  std::optional<Period> period;
  bool operator==(const EncounterLocation&) const = default;
  static const StructInfo& describe();
};

enum class ParticipantType { kAttending, kReferring, kConsulting, kAdmitting, kOther };
const EnumInfo& describe_enum(ParticipantType);

struct EncounterParticipant {
  ParticipantType type = ParticipantType::kOther;
  Reference practitioner;
  std::optional<Period> period;
  bool operator==(const EncounterParticipant&) const = default;
  static const StructInfo& describe();
};

struct StatusChange {
  EncounterStatus status = EncounterStatus::kPlanned;
  std::optional<Period> period;
  bool operator==(const StatusChange&) const = default;
  static const StructInfo& describe();
};

struct ZSegmentValue {
  std::string key;    // required: segment-field as sent, e.g. "ZU1-3" or "ZU3-2.1"
  std::string value;  // the raw (unescaped) value
  bool operator==(const ZSegmentValue&) const = default;
  static const StructInfo& describe();
};

struct Encounter : Entity {
  Reference patient;
  std::vector<Identifier> identifiers;  // visit/spell number (PV1-19), type VN
  EncounterClass encounter_class = EncounterClass::kInpatient;
  EncounterStatus status = EncounterStatus::kPlanned;
  std::vector<StatusChange> status_history;
  std::optional<Period> period;  // admit .. discharge
  std::vector<EncounterLocation> locations;
  std::optional<CodeableConcept> admission_method;
  std::optional<CodeableConcept> admission_source;
  std::optional<CodeableConcept> discharge_method;
  std::optional<CodeableConcept> discharge_destination;
  std::optional<CodeableConcept> treatment_function;
  std::vector<EncounterParticipant> participants;
  std::vector<Period> leave_of_absence;
  std::optional<Reference> service_provider;
  std::vector<ZSegmentValue> z_segments;
  bool operator==(const Encounter&) const = default;
  static const StructInfo& describe();
};

// ---------------------------------------------------------------------------------------------
// Referral (6.5)

enum class ReferralStatus { kDraft, kActive, kOnHold, kCompleted, kRevoked };
const EnumInfo& describe_enum(ReferralStatus);
enum class ReferralPriority { kRoutine, kUrgent, kAsap, kStat };
const EnumInfo& describe_enum(ReferralPriority);
enum class RecipientStatus { kRequested, kReceived, kAccepted, kRejected, kInProgress, kCompleted, kCancelled };
const EnumInfo& describe_enum(RecipientStatus);

struct ReferralParty {
  std::optional<Reference> organization;
  std::optional<Reference> practitioner;
  std::optional<CodeableConcept> service;
  bool operator==(const ReferralParty&) const = default;
  static const StructInfo& describe();
};

struct Note {
  std::string text;  // required
  std::string time;  // dateTime
  std::optional<Reference> author;
  bool operator==(const Note&) const = default;
  static const StructInfo& describe();
};

struct Attachment {
  std::string title;
  std::string content_type;
  std::string url;
  std::string created;  // dateTime
  bool operator==(const Attachment&) const = default;
  static const StructInfo& describe();
};

struct Referral : Entity {
  Reference patient;
  std::vector<Identifier> identifiers;  // UBRN, sender's and receiver's references
  ReferralStatus status = ReferralStatus::kDraft;
  std::optional<RecipientStatus> recipient_status;
  ReferralPriority priority = ReferralPriority::kRoutine;
  std::optional<CodeableConcept> priority_reason;
  std::vector<CodeableConcept> categories;
  std::optional<CodeableConcept> service_type;
  std::vector<CodeableConcept> reasons;
  ReferralParty requester;
  ReferralParty recipient;
  std::string authored_on;  // dateTime, required
  std::string updated_at;   // dateTime
  std::string expires_at;   // dateTime
  std::vector<Note> notes;
  std::vector<Attachment> attachments;
  std::optional<Reference> encounter;
  bool operator==(const Referral&) const = default;
  static const StructInfo& describe();
};

// ---------------------------------------------------------------------------------------------
// EndOfLifePlan (6.6): the EPaCCS record, aggregate root of the end-of-life items.

struct RegisterStatus {
  bool on_register = false;
  std::string date;  // date added (or removed)
  std::optional<Recorded> recorded;
  bool operator==(const RegisterStatus&) const = default;
  static const StructInfo& describe();
};

enum class ConsentDecision { kGiven, kWithdrawn, kBestInterests, kGivenByLpa };
const EnumInfo& describe_enum(ConsentDecision);

struct ConsentToShare {
  ConsentDecision decision = ConsentDecision::kGiven;
  std::string date;  // dateTime
  std::optional<Reference> consented_by;  // patient or LPA attorney (RelatedPerson)
  std::string basis;                      // free text
  std::optional<Recorded> recorded;
  bool operator==(const ConsentToShare&) const = default;
  static const StructInfo& describe();
};

struct Diagnosis {
  CodeableConcept code;
  std::string onset;  // date
  std::optional<Recorded> recorded;
  bool operator==(const Diagnosis&) const = default;
  static const StructInfo& describe();
};

enum class PrognosisCategory { kLastDays, kLastWeeks, kLastMonths, kLimitedLifeExpectancy };
const EnumInfo& describe_enum(PrognosisCategory);

struct Prognosis {
  std::optional<PrognosisCategory> category;
  std::string text;
  std::string date;  // date
  std::optional<bool> patient_aware;
  std::vector<CodeableConcept> awareness;  // relatives'/carers' awareness findings
  std::optional<Recorded> recorded;
  bool operator==(const Prognosis&) const = default;
  static const StructInfo& describe();
};

struct SurpriseQuestion {
  bool would_be_surprised = false;
  std::string date;  // date
  std::optional<Recorded> recorded;
  bool operator==(const SurpriseQuestion&) const = default;
  static const StructInfo& describe();
};

struct FunctionalStatus {
  std::optional<int> akps_score;  // 0..100 in steps of 10
  std::string date;               // date
  std::optional<Recorded> recorded;
  bool operator==(const FunctionalStatus&) const = default;
  static const StructInfo& describe();
};

// NHS Data Dictionary DEATH LOCATION TYPE CODE (domain.md 3.2).
enum class DeathLocationType {
  k10Hospital,
  k20PrivateResidence,
  k21OwnHome,
  k22OtherPrivateResidence,
  k30Hospice,
  k40CareHome,
  k41CareHomeWithNursing,
  k42CareHomeWithoutNursing,
  k50Other,
};
const EnumInfo& describe_enum(DeathLocationType);

enum class PreferenceDiscussion { kUnableToExpress, kNotAppropriate, kDeclined, kUndecided };
const EnumInfo& describe_enum(PreferenceDiscussion);

// A place: preferred place of care, preferred place of death (1st/2nd), actual place of death.
struct PlaceChoice {
  std::optional<DeathLocationType> location_type;
  std::optional<CodeableConcept> code;  // SNOMED where known; originalText = the free text
  std::optional<Reference> organization;  // hospice, care home, hospital
  std::string organization_ods;
  std::optional<Address> address;
  std::optional<bool> usual_residence;
  std::optional<PreferenceDiscussion> discussion;  // why no preference is recorded
  std::optional<Recorded> recorded;
  bool operator==(const PlaceChoice&) const = default;
  static const StructInfo& describe();
};

enum class CprDecisionCode { kForCpr, kDnacpr, kUnknown };
const EnumInfo& describe_enum(CprDecisionCode);
enum class MentalCapacity { kHasCapacity, kLacksCapacity, kNotAssessed };
const EnumInfo& describe_enum(MentalCapacity);

struct CprDecision {
  CprDecisionCode decision = CprDecisionCode::kUnknown;
  std::string decision_date;  // dateTime
  std::string review_date;    // date
  std::string document_location;
  std::optional<Reference> decided_by;
  std::optional<MentalCapacity> mental_capacity;
  std::vector<Reference> persons_involved;
  std::vector<CodeableConcept> awareness;
  std::string reason;
  std::optional<Recorded> recorded;
  bool operator==(const CprDecision&) const = default;
  static const StructInfo& describe();
};

struct Respect {
  bool form_present = false;
  std::string version;
  std::optional<CprDecisionCode> cpr_recommendation;
  std::optional<int> care_priority_scale;  // 1..9
  std::string statement;
  std::string date;  // date
  std::string document_location;
  std::optional<Recorded> recorded;
  bool operator==(const Respect&) const = default;
  static const StructInfo& describe();
};

enum class AdrtType { kGeneral, kLifeSustaining };
const EnumInfo& describe_enum(AdrtType);

struct Adrt {
  bool present = false;
  std::optional<AdrtType> type;
  std::optional<bool> hcp_involved;
  std::string document_location;
  std::string date;  // date
  std::optional<Recorded> recorded;
  bool operator==(const Adrt&) const = default;
  static const StructInfo& describe();
};

struct AdvanceStatement {
  bool present = false;
  std::string text;
  std::string date;  // date
  std::optional<Recorded> recorded;
  bool operator==(const AdvanceStatement&) const = default;
  static const StructInfo& describe();
};

enum class LpaAuthority { kPersonalWelfare, kLifeSustaining };
const EnumInfo& describe_enum(LpaAuthority);

struct LastingPowerOfAttorney {
  std::optional<LpaAuthority> authority;
  std::vector<Reference> attorneys;  // RelatedPerson
  std::string registered_date;       // date
  std::optional<Recorded> recorded;
  bool operator==(const LastingPowerOfAttorney&) const = default;
  static const StructInfo& describe();
};

enum class AnticipatoryMedicinesStatus { kIssued, kPrescribed };
const EnumInfo& describe_enum(AnticipatoryMedicinesStatus);

struct AnticipatoryMedicines {
  AnticipatoryMedicinesStatus status = AnticipatoryMedicinesStatus::kPrescribed;
  std::string date;  // date
  std::string location;
  std::string details;
  std::optional<Recorded> recorded;
  bool operator==(const AnticipatoryMedicines&) const = default;
  static const StructInfo& describe();
};

enum class WishCategory { kAfterDeath, kFuneral, kOrganDonation, kSpiritual, kOtherPreference };
const EnumInfo& describe_enum(WishCategory);

struct Wish {
  WishCategory category = WishCategory::kOtherPreference;
  std::string text;  // required
  std::optional<CodeableConcept> code;
  std::optional<Recorded> recorded;
  bool operator==(const Wish&) const = default;
  static const StructInfo& describe();
};

struct LastYearOfLife {
  bool identified = false;
  std::string date;  // date
  std::string method;
  std::optional<Recorded> recorded;
  bool operator==(const LastYearOfLife&) const = default;
  static const StructInfo& describe();
};

struct CarerStatus {
  bool has_carer = false;
  std::optional<Recorded> recorded;
  bool operator==(const CarerStatus&) const = default;
  static const StructInfo& describe();
};

struct Death {
  std::string date_time;  // dateTime
  std::optional<PlaceChoice> actual_place;
  std::optional<bool> in_preferred_place;
  std::optional<Recorded> recorded;
  bool operator==(const Death&) const = default;
  static const StructInfo& describe();
};

struct EndOfLifePlan : Entity {
  Reference patient;
  std::string created_at;        // dateTime, required
  std::string last_amended_at;   // dateTime
  std::string planned_review_date;  // date
  std::optional<Recorded> recorded;
  std::optional<RegisterStatus> eol_register;
  std::optional<ConsentToShare> consent_to_share;
  std::optional<Diagnosis> primary_diagnosis;
  std::vector<Diagnosis> other_diagnoses;
  std::optional<Prognosis> prognosis;
  std::optional<SurpriseQuestion> surprise_question;
  std::optional<FunctionalStatus> functional_status;
  std::vector<CodeableConcept> disabilities;
  std::optional<CarerStatus> carer;
  std::optional<PlaceChoice> preferred_place_of_care;
  std::vector<PlaceChoice> preferred_place_of_death;  // [0] 1st choice, [1] 2nd choice
  std::optional<CprDecision> cpr_decision;
  std::optional<Respect> respect;
  std::optional<Adrt> adrt;
  std::optional<AdvanceStatement> advance_statement;
  std::optional<LastingPowerOfAttorney> lpa_health_welfare;
  std::optional<AnticipatoryMedicines> anticipatory_medicines;
  std::vector<Wish> wishes;
  std::optional<Reference> key_worker;
  std::vector<Reference> care_team;
  std::optional<LastYearOfLife> last_year_of_life;
  std::optional<Death> death;
  bool operator==(const EndOfLifePlan&) const = default;
  static const StructInfo& describe();
};

// ---------------------------------------------------------------------------------------------
// Provenance

enum class SourceFormat { kHl7v2, kFhir, kImport, kManual };
const EnumInfo& describe_enum(SourceFormat);

struct ProfileRef {
  std::string name;     // required
  std::string version;  // required
  bool operator==(const ProfileRef&) const = default;
  static const StructInfo& describe();
};

struct Provenance : Entity {
  SourceSystem sender;
  SourceFormat format = SourceFormat::kHl7v2;
  std::string message_id;  // MSH-10 control id, or FHIR Bundle/request id
  std::string message_type;  // e.g. ADT^A01, or the FHIR interaction
  std::string journal_id;
  std::optional<ProfileRef> profile;
  std::string received_at;  // dateTime, required
  bool operator==(const Provenance&) const = default;
  static const StructInfo& describe();
};

}  // namespace midhurst::care
