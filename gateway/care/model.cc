// The reflection tables of the care model: every field of every struct, its JSON name, its
// meaning and its codes. This is the one place those are written; MODEL.md's field reference,
// the JSON form and path checking are all derived from it (see reflect.h for why).
//
// Codes: SNOMED CT ids come only from domain.md (see codes.h); an enum value whose meaning says
// "Midhurst code" has no verified national code and is rendered in a Midhurst code system.
#include "care/model.h"

#include <iterator>

#include "care/nhs_number.h"

namespace midhurst::care {

#define MIDHURST_ENUM(E, LAST, DOC, ...)                                          \
  const EnumInfo& describe_enum(E) {                                              \
    static constexpr EnumValue kValues[] = {__VA_ARGS__};                         \
    static_assert(std::size(kValues) == static_cast<std::size_t>(E::LAST) + 1,    \
                  "every enumerator of " #E " needs exactly one code, in order"); \
    static const EnumInfo info{#E, DOC, kValues};                                 \
    return info;                                                                  \
  }

// ---------------------------------------------------------------------------------------------
// Enums of the common types

MIDHURST_ENUM(NameUse, kMaiden, "Use of a name (FHIR name-use).",
              {"usual", "name normally used"}, {"official", "official (registered) name"},
              {"temp", "temporary"}, {"nickname", "nickname"}, {"anonymous", "anonymised"},
              {"old", "no longer used"}, {"maiden", "name before marriage"})

MIDHURST_ENUM(AddressUse, kBilling, "Use of an address (FHIR address-use).", {"home", "home"},
              {"work", "work"}, {"temp", "temporary"}, {"old", "no longer used"},
              {"billing", "billing"})

MIDHURST_ENUM(ContactSystem, kOther, "Kind of contact point (FHIR contact-point-system).",
              {"phone", "telephone"}, {"fax", "fax"}, {"email", "email"}, {"pager", "pager"},
              {"url", "web address"}, {"sms", "text message"}, {"other", "other"})

MIDHURST_ENUM(ContactUse, kMobile, "Use of a contact point (FHIR contact-point-use).",
              {"home", "home"}, {"work", "work"}, {"temp", "temporary"},
              {"old", "no longer used"}, {"mobile", "mobile device"})

MIDHURST_ENUM(EntityType, kProvenance, "The kinds of care entity a Reference can point at.",
              {"Patient", "Patient"}, {"RelatedPerson", "RelatedPerson"},
              {"Organization", "Organization"}, {"Practitioner", "Practitioner"},
              {"PractitionerRole", "PractitionerRole"}, {"CareTeamMember", "CareTeamMember"},
              {"Encounter", "Encounter"}, {"Referral", "Referral"},
              {"EndOfLifePlan", "EndOfLifePlan"}, {"Provenance", "Provenance"})

MIDHURST_ENUM(RecordStatus, kEnteredInError, "Status of a clinical assertion.",
              {"active", "current"}, {"inactive", "no longer applies (superseded, revoked)"},
              {"entered-in-error", "recorded by mistake; ignore"})

// ---------------------------------------------------------------------------------------------
// Common types

namespace {

std::string check_reference(const Reference& r) {
  if (r.id.empty() && !r.identifier) return "a Reference needs an id or an identifier";
  return "";
}

std::string check_nhs_number(const NhsNumber& n) {
  auto parsed = parse_nhs_number(n.value);
  if (!parsed) return "value: " + parsed.error();
  if (*parsed != n.value) return "value: must be the 10 digits without spaces";
  return "";
}

}  // namespace

const StructInfo& Coding::describe() {
  static const StructInfo info =
      Describe<Coding>("Coding", "One code from one code system.")
          .field("system", &Coding::system,
                 "Code system URI, e.g. http://snomed.info/sct. Absent only for an unmapped "
                 "local code.")
          .field("code", &Coding::code, "The code.", {kRequired})
          .field("display", &Coding::display, "Display text of the code.")
          .build();
  return info;
}

const StructInfo& CodeableConcept::describe() {
  static const StructInfo info =
      Describe<CodeableConcept>("CodeableConcept",
                                "A coded value: codings for the same meaning in several code "
                                "systems (e.g. NHS DD + SNOMED CT) plus the text as sent.")
          .field("codings", &CodeableConcept::codings, "The codings, most specific first.")
          .field("originalText", &CodeableConcept::original_text,
                 "The text or code as the source sent it, kept even when mapped.")
          .build();
  return info;
}

const StructInfo& Period::describe() {
  static const StructInfo info =
      Describe<Period>("Period", "A time range; either end may be open.")
          .field("start", &Period::start, "Start, inclusive.", {kDateTime})
          .field("end", &Period::end, "End, inclusive; absent while ongoing.", {kDateTime})
          .build();
  return info;
}

const StructInfo& Identifier::describe() {
  static const StructInfo info =
      Describe<Identifier>("Identifier", "A business identifier (domain.md section 5).")
          .field("system", &Identifier::system,
                 "Identifier system URI, e.g. https://fhir.nhs.uk/Id/nhs-number; a trust's MRN "
                 "system is configured per site.",
                 {kRequired})
          .field("value", &Identifier::value, "The identifier.", {kRequired})
          .field("type", &Identifier::type,
                 "HL7 table 0203 identifier type: NH (NHS number), MR (MRN), VN (visit number)...")
          .field("assignerOds", &Identifier::assigner_ods,
                 "ODS code of the issuing organisation (e.g. the trust for an MRN).")
          .field("period", &Identifier::period, "When the identifier is/was valid.")
          .build();
  return info;
}

const StructInfo& HumanName::describe() {
  static const StructInfo info =
      Describe<HumanName>("HumanName", "A person's name (v2 XPN / XCN name parts).")
          .field("use", &HumanName::use, "official, usual, ...")
          .field("text", &HumanName::text, "The whole name as one text, when sent so.")
          .field("family", &HumanName::family, "Family name (surname).")
          .field("given", &HumanName::given, "Given names, in order.")
          .field("prefix", &HumanName::prefix, "Titles before the name (Mrs, Dr).")
          .field("suffix", &HumanName::suffix, "Parts after the name.")
          .field("period", &HumanName::period, "When the name was in use.")
          .build();
  return info;
}

const StructInfo& Address::describe() {
  static const StructInfo info =
      Describe<Address>("Address", "A postal address (v2 XAD).")
          .field("use", &Address::use, "home, work, ...")
          .field("text", &Address::text, "The whole address as one text, when sent so.")
          .field("lines", &Address::lines, "Street lines, in order.")
          .field("city", &Address::city, "Town or city.")
          .field("district", &Address::district, "County or district.")
          .field("postcode", &Address::postcode, "Postcode, as sent (e.g. YO32 5TT).")
          .field("country", &Address::country, "Country code as sent, e.g. GBR.")
          .field("period", &Address::period, "When the address was in use.")
          .build();
  return info;
}

const StructInfo& ContactPoint::describe() {
  static const StructInfo info =
      Describe<ContactPoint>("ContactPoint", "A telephone number, email address, ... (v2 XTN).")
          .field("system", &ContactPoint::system, "Kind of contact point.")
          .field("value", &ContactPoint::value, "The number or address, as sent.", {kRequired})
          .field("use", &ContactPoint::use, "home, work, mobile, ...")
          .field("rank", &ContactPoint::rank, "Preference order; 1 = most preferred.")
          .field("period", &ContactPoint::period, "When it was in use.")
          .build();
  return info;
}

const StructInfo& Reference::describe() {
  static const StructInfo info =
      Describe<Reference>("Reference",
                          "A pointer to another care entity, by gateway id or by business "
                          "identifier (at least one).")
          .field("type", &Reference::type, "The kind of entity pointed at.")
          .field("id", &Reference::id, "Gateway id of the target entity.")
          .field("identifier", &Reference::identifier,
                 "Business identifier of the target (NHS number, ODS code, GMC number...), "
                 "resolved by the store.")
          .field("display", &Reference::display, "Text for people, e.g. the name.")
          .validate(&check_reference)
          .build();
  return info;
}

const StructInfo& SourceSystem::describe() {
  static const StructInfo info =
      Describe<SourceSystem>("SourceSystem", "A system: application plus its organisation.")
          .field("application", &SourceSystem::application,
                 "Application name, e.g. the v2 sending application (MSH-3).")
          .field("organizationOds", &SourceSystem::organization_ods,
                 "ODS code of the organisation running it (e.g. MSH-4).")
          .build();
  return info;
}

const StructInfo& Recorded::describe() {
  static const StructInfo info =
      Describe<Recorded>("Recorded",
                         "Who recorded a clinical assertion, when, in which system, its status "
                         "and review date (domain.md 6, principle c).")
          .field("recordedAt", &Recorded::recorded_at, "When it was recorded at source.",
                 {kDateTime})
          .field("recordedBy", &Recorded::recorded_by, "Who recorded it (Practitioner).")
          .field("sourceSystem", &Recorded::source_system, "The system it was recorded in.")
          .field("status", &Recorded::status, "active, inactive or entered-in-error.")
          .field("reviewDate", &Recorded::review_date, "When it is due for review.", {kDate})
          .build();
  return info;
}

// ---------------------------------------------------------------------------------------------
// Entity header

namespace {

template <class T>
std::string check_header(const T& e) {
  if (e.version < 1) return "version must be 1 or more";
  return "";
}

// The fields every entity starts with. Provenance has no provenance of its own.
template <class T>
Describe<T> entity(std::string_view name, std::string_view doc, bool with_provenance = true) {
  Describe<T> d(name, doc);
  d.field("id", &T::id, "Stable gateway id of the entity; never reused.", {kRequired})
      .field("version", &T::version, "Version of this entity: 1 when created, +1 per change.")
      .field("lastUpdated", &T::last_updated, "When this version was stored.",
             {kRequired | kDateTime});
  if (with_provenance)
    d.field("provenance", &T::provenance,
            "The Provenance (sender, message, profile) that produced this version.");
  d.validate(&check_header<T>);
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Patient

MIDHURST_ENUM(AdministrativeGender, kUnknown,
              "Administrative gender (FHIR administrative-gender). v2 M/F/O/U and NHS stated "
              "gender 1/2/9/X both map here; the stated-gender code is kept in statedGender.",
              {"male", "male (v2 M, NHS 1)"}, {"female", "female (v2 F, NHS 2)"},
              {"other", "other (v2 O, NHS 9 indeterminate)"},
              {"unknown", "unknown (v2 U, NHS X not known)"})

namespace {
std::string check_patient(const Patient& p) {
  if (p.deceased == false && !p.deceased_at.empty())
    return "deceasedAt is set but deceased is false";
  return "";
}
}  // namespace

const StructInfo& NhsNumber::describe() {
  static const StructInfo info =
      Describe<NhsNumber>("NhsNumber", "The NHS number and its verification status.")
          .field("value", &NhsNumber::value,
                 "10 digits, no spaces; must pass the Modulus 11 check (system "
                 "https://fhir.nhs.uk/Id/nhs-number).",
                 {kRequired})
          .field("verificationStatus", &NhsNumber::verification_status,
                 "NHS number status indicator 01-08 (v2 PID-32 NSTS01..NSTS08), system "
                 "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland.")
          .validate(&check_nhs_number)
          .build();
  return info;
}

const StructInfo& RegisteredGp::describe() {
  static const StructInfo info =
      Describe<RegisteredGp>("RegisteredGp", "The registered GP practice and GP.")
          .field("practiceOds", &RegisteredGp::practice_ods,
                 "ODS code of the GP practice (PD1-3.3), e.g. Y06601.")
          .field("gpGmp", &RegisteredGp::gp_gmp, "GMP code of the GP (PD1-4.1), G + 7 digits.")
          .field("practice", &RegisteredGp::practice, "The practice Organization, when known.")
          .field("practitioner", &RegisteredGp::practitioner, "The GP Practitioner, when known.")
          .field("period", &RegisteredGp::period, "Registration period.")
          .build();
  return info;
}

const StructInfo& PatientContact::describe() {
  static const StructInfo info =
      Describe<PatientContact>("PatientContact", "A contact person of the patient (v2 NK1).")
          .field("relationships", &PatientContact::relationships,
                 "Relationship to the patient (NK1-3; UKCore-PersonRelationshipType).")
          .field("nextOfKin", &PatientContact::next_of_kin, "Whether this is the next of kin.")
          .field("name", &PatientContact::name, "Name (NK1-2).")
          .field("telecoms", &PatientContact::telecoms, "Phone numbers etc. (NK1-5/6).")
          .field("address", &PatientContact::address, "Address (NK1-4).")
          .field("relatedPerson", &PatientContact::related_person,
                 "The RelatedPerson entity, when the contact is also one.")
          .field("period", &PatientContact::period, "When the contact applies.")
          .build();
  return info;
}

const StructInfo& Patient::describe() {
  static const StructInfo info =
      entity<Patient>("Patient", "The person receiving care (domain.md 6.1).")
          .field("nhsNumber", &Patient::nhs_number,
                 "NHS number (PID-3 repetition with CX.4 NHS or CX.5 NH) and its status.")
          .field("identifiers", &Patient::identifiers,
                 "Other identifiers, chiefly local MRNs per organisation (type MR, assignerOds = "
                 "trust ODS).")
          .field("names", &Patient::names, "Names; one official, optionally one usual (PID-5/9).")
          .field("birthDate", &Patient::birth_date, "Date of birth (PID-7).", {kDate})
          .field("gender", &Patient::gender, "Administrative gender (PID-8).")
          .field("statedGender", &Patient::stated_gender,
                 "The NHS DD Person Stated Gender code as sent (1/2/9/X), when sent; system "
                 "https://fhir.hl7.org.uk/CodeSystem/NHSDataModelAndDictionary-PersonStatedGenderCode.")
          .field("deceased", &Patient::deceased, "Whether the patient has died (PID-30).")
          .field("deceasedAt", &Patient::deceased_at, "Date and time of death (PID-29).",
                 {kDateTime})
          .field("deathNotificationStatus", &Patient::death_notification_status,
                 "UKCore-DeathNotificationStatus: 1 informal, 2 formal (registrar), U removed.")
          .field("addresses", &Patient::addresses, "Addresses (PID-11); the usual one is use home.")
          .field("telecoms", &Patient::telecoms, "Phone numbers, email (PID-13/14).")
          .field("registeredGp", &Patient::registered_gp, "Registered GP practice and GP (PD1).")
          .field("contacts", &Patient::contacts, "Contacts and next of kin (NK1).")
          .field("ethnicCategory", &Patient::ethnic_category,
                 "NHS DD ethnic category (A..Z, 99), system "
                 "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland; "
                 "originalText keeps a longer local code such as C22 (PID-22).")
          .field("language", &Patient::language, "Preferred language (PID-15).")
          .field("interpreterRequired", &Patient::interpreter_required,
                 "Whether an interpreter is needed (SNOMED 315594003 needed / 315595002 not "
                 "needed).")
          .field("replacedBy", &Patient::replaced_by,
                 "Set when this record was merged into another (A40: this is MRG-1's record).")
          .field("replaces", &Patient::replaces, "Records that were merged into this one.")
          .validate(&check_patient)
          .build();
  return info;
}

// ---------------------------------------------------------------------------------------------
// RelatedPerson

MIDHURST_ENUM(RelatedPersonRole, kEmergencyContact,
              "Roles of a related person in end-of-life care (domain.md 6.2); Midhurst codes.",
              {"main-carer", "main informal carer"}, {"next-of-kin", "next of kin"},
              {"lpa-health-welfare", "attorney under an LPA for health and welfare"},
              {"decision-involved", "involved in decisions (e.g. the CPR decision)"},
              {"emergency-contact", "contact in an emergency"})

const StructInfo& RelatedPerson::describe() {
  static const StructInfo info =
      entity<RelatedPerson>("RelatedPerson",
                            "A carer, next of kin, LPA attorney or other person involved "
                            "(domain.md 6.2).")
          .field("patient", &RelatedPerson::patient, "The patient they relate to.")
          .field("name", &RelatedPerson::name, "Name (NK1-2).")
          .field("relationships", &RelatedPerson::relationships,
                 "Relationship to the patient (NK1-3; UKCore-PersonRelationshipType).")
          .field("roles", &RelatedPerson::roles, "Their roles in the patient's care.")
          .field("telecoms", &RelatedPerson::telecoms, "Phone numbers etc. (NK1-5).")
          .field("addresses", &RelatedPerson::addresses, "Addresses (NK1-4).")
          .field("awareOfPrognosis", &RelatedPerson::aware_of_prognosis,
                 "Carer's awareness of the prognosis: SNOMED 473301001 aware / 711951000000105 "
                 "unaware.")
          .field("period", &RelatedPerson::period, "When the relationship applies.")
          .field("recorded", &RelatedPerson::recorded, "Who recorded it, when, from where.")
          .build();
  return info;
}

// ---------------------------------------------------------------------------------------------
// Organization, Practitioner, PractitionerRole, CareTeamMember

const StructInfo& Organization::describe() {
  static const StructInfo info =
      entity<Organization>("Organization", "A trust, GP practice, hospice, care home, ...")
          .field("odsCode", &Organization::ods_code,
                 "ODS organisation code (https://fhir.nhs.uk/Id/ods-organization-code).",
                 {kRequired})
          .field("identifiers", &Organization::identifiers, "Other ids, e.g. ODS site codes.")
          .field("name", &Organization::name, "Name.")
          .field("type", &Organization::type, "Organisation type (UKCore-OrganizationType).")
          .field("telecoms", &Organization::telecoms, "Phone numbers etc.")
          .field("addresses", &Organization::addresses, "Addresses.")
          .field("partOf", &Organization::part_of, "Parent organisation.")
          .field("active", &Organization::active, "Whether it is operating.")
          .build();
  return info;
}

const StructInfo& Practitioner::describe() {
  static const StructInfo info =
      entity<Practitioner>("Practitioner", "A health or care professional.")
          .field("identifiers", &Practitioner::identifiers,
                 "Professional ids: GMC, GMP, NMC, HCPC, GPhC, SDS user id (XCN.1 with XCN.9).")
          .field("names", &Practitioner::names, "Names.")
          .field("telecoms", &Practitioner::telecoms, "Phone numbers etc.")
          .field("active", &Practitioner::active, "Whether the record is in use.")
          .build();
  return info;
}

const StructInfo& PractitionerRole::describe() {
  static const StructInfo info =
      entity<PractitionerRole>("PractitionerRole",
                               "A practitioner's role in an organisation (PRD-1 / XCN).")
          .field("identifiers", &PractitionerRole::identifiers,
                 "e.g. SDS role profile id (https://fhir.nhs.uk/Id/sds-role-profile-id).")
          .field("practitioner", &PractitionerRole::practitioner, "The practitioner.")
          .field("organization", &PractitionerRole::organization, "The organisation.")
          .field("roles", &PractitionerRole::roles, "Role codes.")
          .field("specialties", &PractitionerRole::specialties, "Specialties.")
          .field("professionalGroup", &PractitionerRole::professional_group,
                 "Professional group (e.g. SNOMED 850951000000107 palliative care specialist "
                 "nurse, 305496007 palliative care physician).")
          .field("telecoms", &PractitionerRole::telecoms, "Contact in this role.")
          .field("period", &PractitionerRole::period, "When the role is held.")
          .build();
  return info;
}

MIDHURST_ENUM(CareTeamRole, kOther,
              "Role of a care team member (design: key worker, GP, district nurse team, "
              "specialist palliative care nurse, consultant); Midhurst codes, with the SNOMED "
              "concept domain.md gives where it has one.",
              {"key-worker", "EoL care key worker (SNOMED 719240009 has EoL care key worker)"},
              {"gp", "GP"},
              {"district-nurse-team", "district nurse team (SNOMED 305578001 under care of DN)"},
              {"specialist-palliative-care-nurse", "SNOMED 850951000000107"},
              {"palliative-care-physician", "SNOMED 305496007"},
              {"consultant", "hospital consultant"}, {"other", "other professional"})

const StructInfo& CareTeamMember::describe() {
  static const StructInfo info =
      entity<CareTeamMember>("CareTeamMember",
                             "A professional or team involved in the patient's care "
                             "(domain.md 6.3).")
          .field("patient", &CareTeamMember::patient, "The patient.")
          .field("role", &CareTeamMember::role, "The member's role.")
          .field("roleCode", &CareTeamMember::role_code, "The role as coded by the source.")
          .field("practitioner", &CareTeamMember::practitioner, "The practitioner, when known.")
          .field("organization", &CareTeamMember::organization, "The organisation or team.")
          .field("name", &CareTeamMember::name,
                 "Name as free text when no entity can be referenced.")
          .field("telecoms", &CareTeamMember::telecoms, "How to reach them for this patient.")
          .field("period", &CareTeamMember::period, "When they are/were involved.")
          .field("recorded", &CareTeamMember::recorded, "Who recorded it, when, from where.")
          .build();
  return info;
}

// ---------------------------------------------------------------------------------------------
// Encounter

MIDHURST_ENUM(EncounterClass, kPreAdmission, "Patient class (PV1-2).",
              {"inpatient", "PV1-2 I"}, {"outpatient", "PV1-2 O"}, {"emergency", "PV1-2 E"},
              {"community", "community contact"}, {"pre-admission", "PV1-2 P"})

MIDHURST_ENUM(EncounterStatus, kEnteredInError,
              "Encounter state (domain.md section 0 state machine).",
              {"planned", "A05 pre-admit"}, {"in-progress", "A01 admit / A04 register"},
              {"onleave", "A21 leave of absence (A22 returns to in-progress)"},
              {"finished", "A03 discharge"}, {"cancelled", "A11 cancel admit / A38"},
              {"entered-in-error", "recorded by mistake"})

MIDHURST_ENUM(LocationStatus, kCompleted, "Status of a location in the history.",
              {"planned", "pending transfer"}, {"active", "current location"},
              {"completed", "left (A02 prior location)"})

MIDHURST_ENUM(ParticipantType, kOther, "Participant role (PV1-7/8/9/17).",
              {"attending", "PV1-7 attending"}, {"referring", "PV1-8 referring"},
              {"consulting", "PV1-9 consulting"}, {"admitting", "PV1-17 admitting"},
              {"other", "other"})

bool encounter_transition_allowed(EncounterStatus from, EncounterStatus to) {
  using S = EncounterStatus;
  if (from == to) return true;                   // A08 updates, A02 transfers
  if (to == S::kEnteredInError) return true;     // any record can be retracted
  switch (from) {
    case S::kPlanned: return to == S::kInProgress || to == S::kCancelled;  // A01/A04; A38/A11
    case S::kInProgress:
      return to == S::kOnLeave || to == S::kFinished || to == S::kCancelled;  // A21; A03; A11
    case S::kOnLeave: return to == S::kInProgress || to == S::kFinished;    // A22; A03
    case S::kFinished: return to == S::kInProgress;                        // A13 cancel discharge
    case S::kCancelled: return false;
    case S::kEnteredInError: return false;
  }
  return false;
}

const StructInfo& EncounterLocation::describe() {
  static const StructInfo info =
      Describe<EncounterLocation>("EncounterLocation",
                                  "One stay in the location history (PV1-3, A02 PV1-6).")
          .field("siteOds", &EncounterLocation::site_ods, "ODS site code (PV1-3.4).")
          .field("siteName", &EncounterLocation::site_name, "Site name.")
          .field("ward", &EncounterLocation::ward, "Ward (PV1-3.1 point of care).")
          .field("room", &EncounterLocation::room, "Room (PV1-3.2).")
          .field("bed", &EncounterLocation::bed, "Bed (PV1-3.3).")
          .field("status", &EncounterLocation::status, "planned, active or completed.")
          .field("period", &EncounterLocation::period, "When the patient was there.")
          .build();
  return info;
}

const StructInfo& EncounterParticipant::describe() {
  static const StructInfo info =
      Describe<EncounterParticipant>("EncounterParticipant", "A clinician on the encounter.")
          .field("type", &EncounterParticipant::type, "attending, referring, consulting, ...")
          .field("practitioner", &EncounterParticipant::practitioner,
                 "The clinician (usually by GMC number identifier).")
          .field("period", &EncounterParticipant::period, "When involved.")
          .build();
  return info;
}

const StructInfo& StatusChange::describe() {
  static const StructInfo info =
      Describe<StatusChange>("StatusChange", "A past status of the encounter.")
          .field("status", &StatusChange::status, "The status held.")
          .field("period", &StatusChange::period, "When it was held.")
          .build();
  return info;
}

const StructInfo& ZSegmentValue::describe() {
  static const StructInfo info =
      Describe<ZSegmentValue>("ZSegmentValue", "An opaque value from a Z-segment (ZU1-ZU8).")
          .field("key", &ZSegmentValue::key, "Segment and field as sent, e.g. ZU1-3.",
                 {kRequired})
          .field("value", &ZSegmentValue::value, "The value, unescaped.")
          .build();
  return info;
}

const StructInfo& Encounter::describe() {
  static const StructInfo info =
      entity<Encounter>("Encounter", "A hospital spell or visit, from ADT (domain.md 6.4).")
          .field("patient", &Encounter::patient, "The patient.")
          .field("identifiers", &Encounter::identifiers,
                 "Visit/spell number per organisation (PV1-19, type VN).")
          .field("class", &Encounter::encounter_class, "Patient class (PV1-2).")
          .field("status", &Encounter::status, "Current state (ADT state machine).")
          .field("statusHistory", &Encounter::status_history, "Earlier states.")
          .field("period", &Encounter::period, "Admit (PV1-44) to discharge (PV1-45).")
          .field("locations", &Encounter::locations, "Location history, oldest first.")
          .field("admissionMethod", &Encounter::admission_method,
                 "NHS DD admission method (PV1-4), e.g. 13, 21, 82.")
          .field("admissionSource", &Encounter::admission_source,
                 "NHS DD source of admission (PV1-14), e.g. 19.")
          .field("dischargeMethod", &Encounter::discharge_method,
                 "NHS DD discharge method (PV1-36); 4 = patient died.")
          .field("dischargeDestination", &Encounter::discharge_destination,
                 "NHS DD discharge destination (PV1-37), e.g. 19 usual place of residence, 79 "
                 "(meaning unverified: died / not applicable).")
          .field("treatmentFunction", &Encounter::treatment_function,
                 "Treatment function code (PV1-10), e.g. 300.")
          .field("participants", &Encounter::participants, "Clinicians (PV1-7/8/9/17).")
          .field("leaveOfAbsence", &Encounter::leave_of_absence,
                 "Leaves of absence (A21 start, A22 end).")
          .field("serviceProvider", &Encounter::service_provider,
                 "The organisation responsible.")
          .field("zSegments", &Encounter::z_segments,
                 "Z-segment values kept opaque (HL72UK ZU1-ZU8 and local).")
          .build();
  return info;
}

// ---------------------------------------------------------------------------------------------
// Referral

MIDHURST_ENUM(ReferralStatus, kRevoked, "Referral lifecycle (FHIR request-status subset).",
              {"draft", "not yet sent"}, {"active", "sent, in force (RF1-1 P)"},
              {"on-hold", "suspended"}, {"completed", "done"},
              {"revoked", "withdrawn or expired (RF1-1 E)"})

MIDHURST_ENUM(ReferralPriority, kStat, "Priority (FHIR request-priority; RF1-2).",
              {"routine", "RF1-2 R"}, {"urgent", "urgent (e-RS two-week-wait maps here)"},
              {"asap", "RF1-2 A"}, {"stat", "RF1-2 S"})

MIDHURST_ENUM(RecipientStatus, kCancelled,
              "The recipient's handling of the referral (FHIR Task status subset; RF1-1 in "
              "RRI^I12).",
              {"requested", "sent"}, {"received", "received"},
              {"accepted", "accepted (RF1-1 A)"}, {"rejected", "rejected (RF1-1 R)"},
              {"in-progress", "being acted on"}, {"completed", "done"},
              {"cancelled", "cancelled"})

const StructInfo& ReferralParty::describe() {
  static const StructInfo info =
      Describe<ReferralParty>("ReferralParty",
                              "A referrer or recipient: organisation, practitioner, service "
                              "(PRD with PRD-1 RP/RT).")
          .field("organization", &ReferralParty::organization, "The organisation.")
          .field("practitioner", &ReferralParty::practitioner, "The practitioner.")
          .field("service", &ReferralParty::service, "The service or team.")
          .build();
  return info;
}

const StructInfo& Note::describe() {
  static const StructInfo info = Describe<Note>("Note", "A free-text note (NTE).")
                                     .field("text", &Note::text, "The note.", {kRequired})
                                     .field("time", &Note::time, "When written.", {kDateTime})
                                     .field("author", &Note::author, "Who wrote it.")
                                     .build();
  return info;
}

const StructInfo& Attachment::describe() {
  static const StructInfo info =
      Describe<Attachment>("Attachment", "A document attached by link.")
          .field("title", &Attachment::title, "Title.")
          .field("contentType", &Attachment::content_type, "MIME type.")
          .field("url", &Attachment::url, "Where the document is.")
          .field("created", &Attachment::created, "When created.", {kDateTime})
          .build();
  return info;
}

const StructInfo& Referral::describe() {
  static const StructInfo info =
      entity<Referral>("Referral", "A referral between services (domain.md 6.5).")
          .field("patient", &Referral::patient, "The patient referred.")
          .field("identifiers", &Referral::identifiers,
                 "UBRN (https://fhir.nhs.uk/Id/UBRN), sender's (RF1-6) and receiver's (RF1-11) "
                 "references.")
          .field("status", &Referral::status, "Lifecycle status (RF1-1).")
          .field("recipientStatus", &Referral::recipient_status,
                 "The recipient's workflow state.")
          .field("priority", &Referral::priority, "Priority (RF1-2).")
          .field("priorityReason", &Referral::priority_reason,
                 "Why that priority, e.g. two-week-wait.")
          .field("categories", &Referral::categories, "Referral category/type (RF1-3/RF1-5).")
          .field("serviceType", &Referral::service_type,
                 "Service requested, e.g. SNOMED 1078411000000101 referral to community "
                 "specialist palliative care team.")
          .field("reasons", &Referral::reasons, "Reasons (RF1-10, DG1).")
          .field("requester", &Referral::requester, "Who refers (PRD RP).")
          .field("recipient", &Referral::recipient, "Who is referred to (PRD RT).")
          .field("authoredOn", &Referral::authored_on, "When made (RF1-7).",
                 {kRequired | kDateTime})
          .field("updatedAt", &Referral::updated_at, "Last status change at source.",
                 {kDateTime})
          .field("expiresAt", &Referral::expires_at, "Expiry (RF1-8).", {kDateTime})
          .field("notes", &Referral::notes, "Notes (NTE).")
          .field("attachments", &Referral::attachments, "Attached documents.")
          .field("encounter", &Referral::encounter, "The linked encounter.")
          .build();
  return info;
}

// ---------------------------------------------------------------------------------------------
// EndOfLifePlan

MIDHURST_ENUM(ConsentDecision, kGivenByLpa, "Consent to share the EoL record (ISB 1580).",
              {"given", "SNOMED 882921000000109 consent given"},
              {"withdrawn", "SNOMED 882941000000102 withdrawal of consent"},
              {"best-interests", "SNOMED 882961000000101 best-interests decision (MCA 2005)"},
              {"given-by-lpa", "SNOMED 883001000000106 consent given by LPA for personal "
                               "welfare"})

MIDHURST_ENUM(PrognosisCategory, kLimitedLifeExpectancy, "Prognosis (NHSD PALCARE refset).",
              {"last-days", "SNOMED 511401000000102 last days of life"},
              {"last-weeks", "SNOMED 955231000000109 last weeks of life"},
              {"last-months", "SNOMED 968211000000101 last months of life"},
              {"limited-life-expectancy", "SNOMED 767503006 limited life expectancy"})

MIDHURST_ENUM(DeathLocationType, k50Other,
              "NHS DD DEATH LOCATION TYPE CODE. No UK Core code system exists, so it is rendered "
              "in the Midhurst code system nhsdd-death-location-type (codes.h).",
              {"10", "hospital"}, {"20", "private residence"},
              {"21", "patient's own home"}, {"22", "other private residence"},
              {"30", "hospice"}, {"40", "care home"}, {"41", "care home with nursing"},
              {"42", "care home without nursing"}, {"50", "other (see the free text)"})

MIDHURST_ENUM(PreferenceDiscussion, kUndecided,
              "Why no preferred place is recorded (ISB 1580 preferred-place-of-death findings).",
              {"unable-to-express", "SNOMED 517111000000103 unable to express preference"},
              {"not-appropriate", "SNOMED 517131000000106 discussion not appropriate"},
              {"declined", "SNOMED 766391000000108 patient declined discussion"},
              {"undecided", "SNOMED 517161000000101 patient undecided"})

MIDHURST_ENUM(CprDecisionCode, kUnknown, "CPR decision (ISB 1580).",
              {"for-cpr", "SNOMED 450475007 for attempted CPR"},
              {"dnacpr", "SNOMED 450476008 not for attempted CPR"},
              {"unknown", "not known (free text allowed by ISB 1580); Midhurst code"})

MIDHURST_ENUM(MentalCapacity, kNotAssessed,
              "Mental capacity for the decision; Midhurst codes (no verified SNOMED).",
              {"has-capacity", "has capacity"}, {"lacks-capacity", "lacks capacity"},
              {"not-assessed", "not assessed"})

MIDHURST_ENUM(AdrtType, kLifeSustaining, "Kind of ADRT (ISB 1580).",
              {"general", "SNOMED 816301000000100 has ADRT (MCA 2005)"},
              {"life-sustaining", "SNOMED 816321000000109 has ADRT for life-sustaining "
                                  "treatment"})

MIDHURST_ENUM(LpaAuthority, kLifeSustaining, "LPA for health and welfare (ISB 1580).",
              {"personal-welfare", "SNOMED 816361000000101 has appointed person with personal "
                                   "welfare LPA"},
              {"life-sustaining", "SNOMED 816381000000105 ... with authority for "
                                  "life-sustaining decisions"})

MIDHURST_ENUM(AnticipatoryMedicinesStatus, kPrescribed, "Anticipatory medicines (ISB 1580).",
              {"issued", "SNOMED 376201000000102 issue of anticipatory medication box"},
              {"prescribed", "SNOMED 871021000000106 prescription of anticipatory medication"})

MIDHURST_ENUM(WishCategory, kOtherPreference,
              "Kinds of wish (PRSB; codes unverified, so Midhurst codes).",
              {"after-death", "wishes for after death"}, {"funeral", "funeral wishes"},
              {"organ-donation", "organ/tissue donation"},
              {"spiritual", "spiritual or religious needs"},
              {"other-preference", "other preferences and wishes"})

namespace {

std::string check_functional_status(const FunctionalStatus& f) {
  if (f.akps_score && (*f.akps_score < 0 || *f.akps_score > 100 || *f.akps_score % 10 != 0))
    return "akpsScore must be 0..100 in steps of 10";
  return "";
}

std::string check_respect(const Respect& r) {
  if (r.care_priority_scale && (*r.care_priority_scale < 1 || *r.care_priority_scale > 9))
    return "carePriorityScale must be 1..9";
  return "";
}

std::string check_lpa(const LastingPowerOfAttorney& l) {
  // The NHS EoL API rule: the LPA flag exists whenever an attorney does, so an attorney with
  // no authority recorded cannot be rendered faithfully.
  if (!l.attorneys.empty() && !l.authority) return "attorneys are given but authority is not";
  return "";
}

}  // namespace

const StructInfo& RegisterStatus::describe() {
  static const StructInfo info =
      Describe<RegisterStatus>("RegisterStatus",
                               "Whether the patient is on the EoL care register (SNOMED "
                               "526631000000108 on end of life care register).")
          .field("onRegister", &RegisterStatus::on_register, "On the register.")
          .field("date", &RegisterStatus::date, "Date added (or removed).", {kDate})
          .field("recorded", &RegisterStatus::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& ConsentToShare::describe() {
  static const StructInfo info =
      Describe<ConsentToShare>("ConsentToShare", "Consent to share the EoL record (ISB 1580 M).")
          .field("decision", &ConsentToShare::decision, "The consent decision.")
          .field("date", &ConsentToShare::date, "When given or withdrawn.", {kDateTime})
          .field("consentedBy", &ConsentToShare::consented_by,
                 "Who consented (the patient or the LPA attorney).")
          .field("basis", &ConsentToShare::basis, "Free-text details of the decision.")
          .field("recorded", &ConsentToShare::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& Diagnosis::describe() {
  static const StructInfo info =
      Describe<Diagnosis>("Diagnosis", "A diagnosis relevant to end-of-life care (DG1).")
          .field("code", &Diagnosis::code, "SNOMED CT (or ICD-10) code and text.")
          .field("onset", &Diagnosis::onset, "Date of diagnosis.", {kDate})
          .field("recorded", &Diagnosis::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& Prognosis::describe() {
  static const StructInfo info =
      Describe<Prognosis>("Prognosis", "The clinician's prognosis.")
          .field("category", &Prognosis::category, "Coded prognosis.")
          .field("text", &Prognosis::text, "Prognosis as text (mandatory in the EoL API).")
          .field("date", &Prognosis::date, "When assessed.", {kDate})
          .field("patientAware", &Prognosis::patient_aware, "Whether the patient is aware.")
          .field("awareness", &Prognosis::awareness,
                 "Relatives'/carers' awareness: SNOMED 751961000000104 / 760101000000101 "
                 "relative aware / unaware.")
          .field("recorded", &Prognosis::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& SurpriseQuestion::describe() {
  static const StructInfo info =
      Describe<SurpriseQuestion>("SurpriseQuestion",
                                 "\"Would you be surprised if this patient died in the next 12 "
                                 "months?\" No verified SNOMED code: Midhurst code system.")
          .field("wouldBeSurprised", &SurpriseQuestion::would_be_surprised,
                 "The clinician's answer (false = would not be surprised).")
          .field("date", &SurpriseQuestion::date, "When asked.", {kDate})
          .field("recorded", &SurpriseQuestion::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& FunctionalStatus::describe() {
  static const StructInfo info =
      Describe<FunctionalStatus>("FunctionalStatus",
                                 "Australia-modified Karnofsky performance status (SNOMED "
                                 "901671000000100 AKPS score).")
          .field("akpsScore", &FunctionalStatus::akps_score, "Score 0..100, steps of 10.")
          .field("date", &FunctionalStatus::date, "When assessed.", {kDate})
          .field("recorded", &FunctionalStatus::recorded, "Who, when, source.")
          .validate(&check_functional_status)
          .build();
  return info;
}

const StructInfo& PlaceChoice::describe() {
  static const StructInfo info =
      Describe<PlaceChoice>("PlaceChoice",
                            "A place: preferred place of care or death, or actual place of "
                            "death.")
          .field("locationType", &PlaceChoice::location_type,
                 "NHS DD death location type code 10-50.")
          .field("code", &PlaceChoice::code,
                 "SNOMED coding where known (e.g. 819211000000102 PPD usual place of residence, "
                 "887801000000106 died in usual place of residence); originalText = the free "
                 "text as recorded.")
          .field("organization", &PlaceChoice::organization,
                 "The hospice, care home or hospital, when known.")
          .field("organizationOds", &PlaceChoice::organization_ods, "Its ODS code.")
          .field("address", &PlaceChoice::address, "The address, e.g. a relative's home.")
          .field("usualResidence", &PlaceChoice::usual_residence,
                 "Whether it is the usual place of residence.")
          .field("discussion", &PlaceChoice::discussion,
                 "Why no place is recorded (instead of a place).")
          .field("recorded", &PlaceChoice::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& CprDecision::describe() {
  static const StructInfo info =
      Describe<CprDecision>("CprDecision", "The CPR decision (DNACPR or for CPR).")
          .field("decision", &CprDecision::decision, "The decision.")
          .field("decisionDate", &CprDecision::decision_date, "When made.", {kDateTime})
          .field("reviewDate", &CprDecision::review_date, "When to review.", {kDate})
          .field("documentLocation", &CprDecision::document_location,
                 "Where the form is kept (e.g. at home, in the notes).")
          .field("decidedBy", &CprDecision::decided_by, "The senior clinician responsible.")
          .field("mentalCapacity", &CprDecision::mental_capacity,
                 "Patient's capacity for the decision.")
          .field("personsInvolved", &CprDecision::persons_involved,
                 "People involved in the decision (RelatedPerson, Practitioner).")
          .field("awareness", &CprDecision::awareness,
                 "Awareness of the decision, e.g. SNOMED 845151000000104 not aware of DNACPR "
                 "clinical decision.")
          .field("reason", &CprDecision::reason, "Reason, free text.")
          .field("recorded", &CprDecision::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& Respect::describe() {
  static const StructInfo info =
      Describe<Respect>("Respect",
                        "The ReSPECT form (PRSB; codes unverified: Midhurst code system).")
          .field("formPresent", &Respect::form_present, "A ReSPECT form exists.")
          .field("version", &Respect::version, "Form version, e.g. 3.")
          .field("cprRecommendation", &Respect::cpr_recommendation,
                 "CPR recommendation on the form.")
          .field("carePriorityScale", &Respect::care_priority_scale,
                 "Care priority scale 1..9 (1 = prioritise sustaining life, 9 = comfort).")
          .field("statement", &Respect::statement, "The clinical recommendations as text.")
          .field("date", &Respect::date, "Date completed.", {kDate})
          .field("documentLocation", &Respect::document_location, "Where the form is kept.")
          .field("recorded", &Respect::recorded, "Who, when, source.")
          .validate(&check_respect)
          .build();
  return info;
}

const StructInfo& Adrt::describe() {
  static const StructInfo info =
      Describe<Adrt>("Adrt", "Advance decision to refuse treatment (MCA 2005).")
          .field("present", &Adrt::present, "An ADRT exists.")
          .field("type", &Adrt::type, "General or for life-sustaining treatment.")
          .field("hcpInvolved", &Adrt::hcp_involved,
                 "SNOMED 820621000000107 has involved HCP in ADRT discussion.")
          .field("documentLocation", &Adrt::document_location, "Where the document is kept.")
          .field("date", &Adrt::date, "Date made.", {kDate})
          .field("recorded", &Adrt::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& AdvanceStatement::describe() {
  static const StructInfo info =
      Describe<AdvanceStatement>("AdvanceStatement",
                                 "Advance statement / advance care plan wishes (SNOMED "
                                 "816281000000101 has advance statement).")
          .field("present", &AdvanceStatement::present, "An advance statement exists.")
          .field("text", &AdvanceStatement::text, "The patient's wishes, as text.")
          .field("date", &AdvanceStatement::date, "Date made.", {kDate})
          .field("recorded", &AdvanceStatement::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& LastingPowerOfAttorney::describe() {
  static const StructInfo info =
      Describe<LastingPowerOfAttorney>("LastingPowerOfAttorney",
                                       "LPA for health and welfare and its attorneys.")
          .field("authority", &LastingPowerOfAttorney::authority,
                 "Level of authority; required when attorneys are given.")
          .field("attorneys", &LastingPowerOfAttorney::attorneys,
                 "The attorneys (RelatedPerson with role lpa-health-welfare).")
          .field("registeredDate", &LastingPowerOfAttorney::registered_date,
                 "Date registered.", {kDate})
          .field("recorded", &LastingPowerOfAttorney::recorded, "Who, when, source.")
          .validate(&check_lpa)
          .build();
  return info;
}

const StructInfo& AnticipatoryMedicines::describe() {
  static const StructInfo info =
      Describe<AnticipatoryMedicines>("AnticipatoryMedicines",
                                      "Anticipatory (just-in-case) medicines.")
          .field("status", &AnticipatoryMedicines::status, "Issued or prescribed.")
          .field("date", &AnticipatoryMedicines::date, "When issued/prescribed.", {kDate})
          .field("location", &AnticipatoryMedicines::location, "Where they are kept.")
          .field("details", &AnticipatoryMedicines::details, "Which medicines, as text.")
          .field("recorded", &AnticipatoryMedicines::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& Wish::describe() {
  static const StructInfo info =
      Describe<Wish>("Wish", "An after-death wish or other preference.")
          .field("category", &Wish::category, "Kind of wish.")
          .field("text", &Wish::text, "The wish.", {kRequired})
          .field("code", &Wish::code, "A code, when the source sends one.")
          .field("recorded", &Wish::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& LastYearOfLife::describe() {
  static const StructInfo info =
      Describe<LastYearOfLife>("LastYearOfLife",
                               "Identification as likely to be in the last year of life.")
          .field("identified", &LastYearOfLife::identified, "Identified.")
          .field("date", &LastYearOfLife::date, "When identified.", {kDate})
          .field("method", &LastYearOfLife::method,
                 "How (e.g. surprise question, GSF indicators), as text.")
          .field("recorded", &LastYearOfLife::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& CarerStatus::describe() {
  static const StructInfo info =
      Describe<CarerStatus>("CarerStatus",
                            "Availability of carer support (ISB 1580 M; SNOMED 184156005 has a "
                            "carer / 414041006 does not have a carer).")
          .field("hasCarer", &CarerStatus::has_carer, "Whether the patient has a carer.")
          .field("recorded", &CarerStatus::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& Death::describe() {
  static const StructInfo info =
      Describe<Death>("Death", "The death, for the outcome \"died in preferred place\".")
          .field("dateTime", &Death::date_time, "Date and time of death.", {kDateTime})
          .field("actualPlace", &Death::actual_place, "Where the patient died.")
          .field("inPreferredPlace", &Death::in_preferred_place,
                 "Whether that was the preferred place of death.")
          .field("recorded", &Death::recorded, "Who, when, source.")
          .build();
  return info;
}

const StructInfo& EndOfLifePlan::describe() {
  static const StructInfo info =
      entity<EndOfLifePlan>("EndOfLifePlan",
                            "The EoL care coordination record (EPaCCS; domain.md 6.6): "
                            "aggregate root of the end-of-life items. FHIR: CarePlan category "
                            "SNOMED 861411000000103.")
          .field("patient", &EndOfLifePlan::patient, "The patient.")
          .field("createdAt", &EndOfLifePlan::created_at, "When the record was created (M).",
                 {kRequired | kDateTime})
          .field("lastAmendedAt", &EndOfLifePlan::last_amended_at,
                 "When the record was last amended at source (M).", {kDateTime})
          .field("plannedReviewDate", &EndOfLifePlan::planned_review_date,
                 "Planned review date (ISB 1580: within 3 months).", {kDate})
          .field("recorded", &EndOfLifePlan::recorded, "Who, when, source of the plan.")
          .field("eolRegister", &EndOfLifePlan::eol_register, "On the EoL register.")
          .field("consentToShare", &EndOfLifePlan::consent_to_share, "Consent to share.")
          .field("primaryDiagnosis", &EndOfLifePlan::primary_diagnosis,
                 "Primary EoL diagnosis (M).")
          .field("otherDiagnoses", &EndOfLifePlan::other_diagnoses, "Other relevant diagnoses.")
          .field("prognosis", &EndOfLifePlan::prognosis, "Prognosis.")
          .field("surpriseQuestion", &EndOfLifePlan::surprise_question, "Surprise question.")
          .field("functionalStatus", &EndOfLifePlan::functional_status, "AKPS.")
          .field("disabilities", &EndOfLifePlan::disabilities, "Disabilities, coded.")
          .field("carer", &EndOfLifePlan::carer, "Availability of carer support.")
          .field("preferredPlaceOfCare", &EndOfLifePlan::preferred_place_of_care,
                 "Preferred place of care.")
          .field("preferredPlaceOfDeath", &EndOfLifePlan::preferred_place_of_death,
                 "Preferred place of death: [0] 1st choice, [1] 2nd choice. ISB 1580 alerts "
                 "when the 1st choice is missing.",
                 {0, 2})
          .field("cprDecision", &EndOfLifePlan::cpr_decision, "CPR decision.")
          .field("respect", &EndOfLifePlan::respect, "ReSPECT form.")
          .field("adrt", &EndOfLifePlan::adrt, "Advance decision to refuse treatment.")
          .field("advanceStatement", &EndOfLifePlan::advance_statement,
                 "Advance statement and wishes.")
          .field("lpaHealthWelfare", &EndOfLifePlan::lpa_health_welfare,
                 "LPA for health and welfare.")
          .field("anticipatoryMedicines", &EndOfLifePlan::anticipatory_medicines,
                 "Anticipatory medicines.")
          .field("wishes", &EndOfLifePlan::wishes, "After-death wishes and other preferences.")
          .field("keyWorker", &EndOfLifePlan::key_worker,
                 "The key worker (CareTeamMember or Practitioner).")
          .field("careTeam", &EndOfLifePlan::care_team, "The care team (CareTeamMember).")
          .field("lastYearOfLife", &EndOfLifePlan::last_year_of_life,
                 "Last-year-of-life identification.")
          .field("death", &EndOfLifePlan::death, "Death details and place.")
          .build();
  return info;
}

// ---------------------------------------------------------------------------------------------
// Provenance

MIDHURST_ENUM(SourceFormat, kManual, "How the data arrived.", {"hl7v2", "HL7v2 message"},
              {"fhir", "FHIR write"}, {"import", "bulk import"}, {"manual", "entered by hand"})

const StructInfo& ProfileRef::describe() {
  static const StructInfo info =
      Describe<ProfileRef>("ProfileRef", "The mapping profile that produced the data.")
          .field("name", &ProfileRef::name, "Profile name.", {kRequired})
          .field("version", &ProfileRef::version, "Profile version.", {kRequired})
          .build();
  return info;
}

const StructInfo& Provenance::describe() {
  static const StructInfo info =
      entity<Provenance>("Provenance",
                         "Where a version of an entity came from: sender, message, profile, "
                         "time.",
                         /*with_provenance=*/false)
          .field("sender", &Provenance::sender, "Sending system and organisation (MSH-3/4).")
          .field("format", &Provenance::format, "How the data arrived.")
          .field("messageId", &Provenance::message_id,
                 "Message control id (MSH-10) or FHIR request/Bundle id.")
          .field("messageType", &Provenance::message_type,
                 "e.g. ADT^A01, or the FHIR interaction.")
          .field("journalId", &Provenance::journal_id, "The journal entry of the payload.")
          .field("profile", &Provenance::profile, "Mapping profile name and version.")
          .field("receivedAt", &Provenance::received_at, "When received.",
                 {kRequired | kDateTime})
          .build();
  return info;
}

#undef MIDHURST_ENUM

}  // namespace midhurst::care
