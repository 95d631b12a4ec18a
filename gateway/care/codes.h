// Code systems and codes the care model names (domain.md sections 3.2 and 5).
//
// SNOMED CT ids here are ONLY those listed in domain.md; none is invented. Where domain.md has
// no verified code (surprise question, ReSPECT, mental capacity, after-death wishes, the death
// location type code system URI), the model uses an enum whose values are Midhurst codes in a
// Midhurst code system under kMidhurstCodeSystemBase, and MODEL.md says so.
#pragma once

#include <string_view>

namespace midhurst::care::codes {

// Identifier systems (domain.md section 5).
inline constexpr std::string_view kNhsNumber = "https://fhir.nhs.uk/Id/nhs-number";
inline constexpr std::string_view kOdsOrganization = "https://fhir.nhs.uk/Id/ods-organization-code";
inline constexpr std::string_view kOdsSite = "https://fhir.nhs.uk/Id/ods-site-code";
inline constexpr std::string_view kGmpNumber = "https://fhir.hl7.org.uk/Id/gmp-number";
inline constexpr std::string_view kGmcNumber = "https://fhir.hl7.org.uk/Id/gmc-number";
inline constexpr std::string_view kNmcNumber = "https://fhir.hl7.org.uk/Id/nmc-number";
inline constexpr std::string_view kSdsUserId = "https://fhir.nhs.uk/Id/sds-user-id";
inline constexpr std::string_view kSdsRoleProfileId = "https://fhir.nhs.uk/Id/sds-role-profile-id";
inline constexpr std::string_view kUbrn = "https://fhir.nhs.uk/Id/UBRN";

// Code systems.
inline constexpr std::string_view kSnomed = "http://snomed.info/sct";
inline constexpr std::string_view kNhsNumberVerificationStatus =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";
inline constexpr std::string_view kStatedGender =
    "https://fhir.hl7.org.uk/CodeSystem/NHSDataModelAndDictionary-PersonStatedGenderCode";
inline constexpr std::string_view kEthnicCategory =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland";
inline constexpr std::string_view kDeathNotificationStatus =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus";

// Midhurst's own code systems, for items with no verified national code. The base is a
// placeholder until the project's canonical domain is fixed; change it here only.
inline constexpr std::string_view kMidhurstCodeSystemBase = "https://fhir.midhurst.example/CodeSystem/";
// NHS DD DEATH LOCATION TYPE CODE (10-50): no UK Core CodeSystem exists (domain.md section 5).
inline constexpr std::string_view kDeathLocationType =
    "https://fhir.midhurst.example/CodeSystem/nhsdd-death-location-type";

// SNOMED CT concepts from domain.md 3.2 (ISB 1580 and the UK Core EoL example).
namespace snomed {
inline constexpr std::string_view kEndOfLifeCareDocument = "861411000000103";
inline constexpr std::string_view kOnEolRegister = "526631000000108";
inline constexpr std::string_view kConsentGiven = "882921000000109";
inline constexpr std::string_view kConsentWithdrawn = "882941000000102";
inline constexpr std::string_view kConsentBestInterests = "882961000000101";
inline constexpr std::string_view kConsentByLpa = "883001000000106";
inline constexpr std::string_view kForCpr = "450475007";
inline constexpr std::string_view kNotForCpr = "450476008";
inline constexpr std::string_view kNotAwareOfDnacpr = "845151000000104";
inline constexpr std::string_view kHasAdrt = "816301000000100";
inline constexpr std::string_view kHasAdrtLifeSustaining = "816321000000109";
inline constexpr std::string_view kHcpInvolvedInAdrt = "820621000000107";
inline constexpr std::string_view kHasAdvanceStatement = "816281000000101";
inline constexpr std::string_view kLpaPersonalWelfare = "816361000000101";
inline constexpr std::string_view kLpaLifeSustaining = "816381000000105";
inline constexpr std::string_view kLastDaysOfLife = "511401000000102";
inline constexpr std::string_view kLastWeeksOfLife = "955231000000109";
inline constexpr std::string_view kLastMonthsOfLife = "968211000000101";
inline constexpr std::string_view kLimitedLifeExpectancy = "767503006";
inline constexpr std::string_view kAnticipatoryMedicationIssued = "376201000000102";
inline constexpr std::string_view kAnticipatoryMedicationPrescribed = "871021000000106";
inline constexpr std::string_view kPpdUnableToExpress = "517111000000103";
inline constexpr std::string_view kPpdDiscussionNotAppropriate = "517131000000106";
inline constexpr std::string_view kPpdDeclinedDiscussion = "766391000000108";
inline constexpr std::string_view kPpdUndecided = "517161000000101";
inline constexpr std::string_view kPpdUsualPlaceOfResidence = "819211000000102";
inline constexpr std::string_view kDiedInUsualPlaceOfResidence = "887801000000106";
inline constexpr std::string_view kHasCarer = "184156005";
inline constexpr std::string_view kDoesNotHaveCarer = "414041006";
inline constexpr std::string_view kCarerAwareOfPrognosis = "473301001";
inline constexpr std::string_view kCarerUnawareOfPrognosis = "711951000000105";
inline constexpr std::string_view kInterpreterNeeded = "315594003";
inline constexpr std::string_view kInterpreterNotNeeded = "315595002";
inline constexpr std::string_view kRelativeAwareOfPrognosis = "751961000000104";
inline constexpr std::string_view kRelativeUnawareOfPrognosis = "760101000000101";
inline constexpr std::string_view kAkpsScore = "901671000000100";
inline constexpr std::string_view kHasEolKeyWorker = "719240009";
inline constexpr std::string_view kUnderCareOfDistrictNurse = "305578001";
inline constexpr std::string_view kPalliativeCareSpecialistNurse = "850951000000107";
inline constexpr std::string_view kPalliativeCarePhysician = "305496007";
inline constexpr std::string_view kReferralToCommunitySpc = "1078411000000101";
}  // namespace snomed

// Every SNOMED CT id above, for checks that documentation names no other (model_doc_test.cc).
inline constexpr std::string_view kAllSnomed[] = {
    snomed::kEndOfLifeCareDocument, snomed::kOnEolRegister, snomed::kConsentGiven,
    snomed::kConsentWithdrawn, snomed::kConsentBestInterests, snomed::kConsentByLpa,
    snomed::kForCpr, snomed::kNotForCpr, snomed::kNotAwareOfDnacpr, snomed::kHasAdrt,
    snomed::kHasAdrtLifeSustaining, snomed::kHcpInvolvedInAdrt, snomed::kHasAdvanceStatement,
    snomed::kLpaPersonalWelfare, snomed::kLpaLifeSustaining, snomed::kLastDaysOfLife,
    snomed::kLastWeeksOfLife, snomed::kLastMonthsOfLife, snomed::kLimitedLifeExpectancy,
    snomed::kAnticipatoryMedicationIssued, snomed::kAnticipatoryMedicationPrescribed,
    snomed::kPpdUnableToExpress, snomed::kPpdDiscussionNotAppropriate,
    snomed::kPpdDeclinedDiscussion, snomed::kPpdUndecided, snomed::kPpdUsualPlaceOfResidence,
    snomed::kDiedInUsualPlaceOfResidence, snomed::kHasCarer, snomed::kDoesNotHaveCarer,
    snomed::kCarerAwareOfPrognosis, snomed::kCarerUnawareOfPrognosis,
    snomed::kInterpreterNeeded, snomed::kInterpreterNotNeeded,
    snomed::kRelativeAwareOfPrognosis, snomed::kRelativeUnawareOfPrognosis, snomed::kAkpsScore,
    snomed::kHasEolKeyWorker, snomed::kUnderCareOfDistrictNurse,
    snomed::kPalliativeCareSpecialistNurse, snomed::kPalliativeCarePhysician,
    snomed::kReferralToCommunitySpc,
};

}  // namespace midhurst::care::codes
