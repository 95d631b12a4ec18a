// Acknowledgements: deciding which ACK a message is owed, and building it.
//
// HL7 v2.x chapter 2 defines two acknowledgement modes (v2.5 §2.9.2 original mode, §2.9.3
// enhanced mode; table 0008 for MSA-1, table 0155 for MSH-15/MSH-16):
//
//  - Original mode, when MSH-15 and MSH-16 are both empty: one application acknowledgement,
//    MSA-1 AA (accepted), AE (error in the content) or AR (rejected for a reason unrelated to
//    the content: unsupported message type, version or processing id, or the receiver failed).
//  - Enhanced mode, when either is valued: an accept (commit) acknowledgement, MSA-1 CA
//    (committed to safe storage), CE (cannot be accepted, e.g. errors) or CR (message type,
//    version or processing id not acceptable), sent as MSH-15 asks (AL always, NE never,
//    ER on error or reject only, SU on success only); then, separately, an application
//    acknowledgement (AA/AE/AR) as MSH-16 asks.
//
// The ACK itself (chapter 2 "ACK - general acknowledgment", segments MSH MSA [{ERR}]):
//   MSH-3/4 <- original MSH-5/6, MSH-5/6 <- original MSH-3/4 (the reply goes back),
//   MSH-7 the caller's timestamp, MSH-9 ACK^<original trigger>^ACK, MSH-10 the caller's new
//   control id, MSH-11/12/18 copied from the original, same delimiters as the original;
//   MSA-1 code, MSA-2 the original MSH-10, MSA-3 optional text;
//   one ERR per Issue: ERR-2 location (ERL), ERR-3 table 0357 code (CWE), ERR-4 severity
//   (table 0516), ERR-8 the Issue's `why`; for v2.4 and earlier (and unknown versions) also
//   ERR-1 (ELD: segment^sequence^field^code&text&HL70357), the only field v2.4 defines.
//
// Every value goes through Message::set, so text holding the message's delimiters, its
// escape character or CR/LF is escaped and cannot change the ACK's structure. Header
// fields copied from the original are copied as the escaped bytes they are (same
// delimiters), so they read back identical.
//
// All functions are pure: no clocks (see hl7_timestamp_now()), no globals; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "hl7v2/issue.h"
#include "hl7v2/message.h"

namespace midhurst::hl7v2 {

// HL7 table 0008 "Acknowledgment code".
enum class AckCode { kAA, kAE, kAR, kCA, kCE, kCR };

// "AA", "AE", "AR", "CA", "CE", "CR".
std::string_view to_string(AckCode code);

// What became of the original message, independent of the acknowledgement mode.
//  kAccepted: taken (committed / processed), possibly with warnings.
//  kError:    refused because of its content (Issues of severity E): AE / CE.
//  kRejected: refused for a reason unrelated to its content: the message type, event,
//             processing id or version is not supported, or the gateway itself failed:
//             AR / CR. A sender may resend a rejected message unchanged.
enum class AckOutcome { kAccepted, kError, kRejected };

// The outcome an issue list implies: kRejected iff an error has code 200-203 (unsupported
// message type, event, processing id, version) or 207 (application internal error);
// else kError iff any issue has severity E; else kAccepted.
AckOutcome outcome_of(const Issues& issues);

enum class AckMode { kOriginal, kEnhanced };

// kEnhanced iff MSH-15 or MSH-16 of `original` is valued (v2.5 §2.9.3); else kOriginal.
AckMode ack_mode(const Message& original);

// HL7 table 0155 "Accept/application acknowledgment conditions" (MSH-15, MSH-16).
enum class AckCondition { kAlways, kNever, kErrorOnly, kSuccessOnly };

// Reads an MSH-15/MSH-16 value: AL, NE, ER, SU (case-insensitive, spaces trimmed).
// Decision: an empty or unknown value reads as kAlways. It only matters in enhanced mode,
// where the standard requires the fields; answering when unsure is the safe side (a sender
// logs and drops an ACK it did not want, but resends or stalls on one it never gets).
AckCondition ack_condition(std::string_view value);

// The accept (commit) acknowledgement owed for `original` and `outcome`: CA / CE / CR when
// in enhanced mode and MSH-15 asks for it in this case; nullopt when none is due (MSH-15 NE,
// ER on success, SU on error or reject), and always in original mode, which has no accept
// acknowledgement.
std::optional<AckCode> accept_ack_due(const Message& original, AckOutcome outcome);

// The application acknowledgement owed: AA / AE / AR. Original mode: always due. Enhanced
// mode: due as MSH-16 asks (AL, NE, ER, SU as above).
std::optional<AckCode> application_ack_due(const Message& original, AckOutcome outcome);

// The acknowledgement the gateway sends once it has journaled (or refused) the message:
// in original mode the application ACK (AA/AE/AR, always due), in enhanced mode the accept
// ACK (CA/CE/CR, as MSH-15 asks). nullopt: send nothing.
std::optional<AckCode> ack_on_commit(const Message& original, AckOutcome outcome);

// What to put in the ACK besides what comes from the original message.
struct AckRequest {
  AckCode code = AckCode::kAA;
  // MSH-7, an HL7 TS such as "20240102030405+0000". Passed in so that output is
  // deterministic; hl7_timestamp_now() gives the current time.
  std::string timestamp;
  // MSH-10 of the ACK itself: a new id, unique among this gateway's outbound messages.
  std::string control_id;
  // MSA-3 "text message"; "" leaves it out. v2.4 readers show it to users; from v2.5 the
  // ERR segments carry the detail and MSA-3 is kept only for backward compatibility.
  std::string text;
  // One ERR segment each, in order. Warnings and information are allowed with AA/CA.
  Issues issues;
};

// Builds the ACK for `original` (a parsed message; it should have MSH-9, MSH-10 and MSH-12,
// but missing ones are left empty rather than refused, so any parsed message gets an
// answer). Text is converted from UTF-8 to the original's charset (MSH-18); characters
// that charset cannot hold become '?'.
// Errors: only if the ACK could not be assembled, which means a bug here (every value is
// escaped first); the string says which field failed.
Result<Message, std::string> build_ack(const Message& original, const AckRequest& request);

// The ACK's bytes, exactly build_ack(original, request)->encode(). The usual ACK (no ERR,
// ASCII text, a supported MSH-18) is written straight into one string: build_ack sets each
// field through Message::set, which re-indexes the message a dozen times, and the ingest
// builds one ACK per message on its commit thread. Anything else goes through build_ack.
Result<std::string, std::string> build_ack_text(const Message& original, const AckRequest& request);

// What could be read from the header of bytes that Message::parse refused.
struct SalvagedHeader {
  bool msh_found = false;        // "MSH" occurs in the bytes (not necessarily first)
  bool delimiters_read = false;  // MSH-1 and MSH-2 after it form a usable delimiter set
  Delimiters delimiters;         // those delimiters, or the defaults
  // Raw field values (escaped with `delimiters` when delimiters_read), "" when absent.
  // Bytes outside printable ASCII are replaced by '?' (the charset is unknown, and an
  // echoed 0x1C would end the MLLP frame), and each is cut at kMaxSalvagedField bytes.
  std::string sending_application, sending_facility;      // MSH-3, MSH-4
  std::string receiving_application, receiving_facility;  // MSH-5, MSH-6
  std::string message_type;                               // MSH-9 (whole field)
  std::string control_id;                                 // MSH-10
  std::string processing_id;                              // MSH-11
  std::string version;                                    // MSH-12
  std::string accept_ack_type, application_ack_type;      // MSH-15, MSH-16

  static constexpr size_t kMaxSalvagedField = 199;  // the v2.5+ length of MSH-10
};

// Reads what it can of the first MSH segment found anywhere in `bytes` (it may follow
// garbage such as a stray MLLP start block or a byte-order mark). Never fails.
SalvagedHeader salvage_header(std::string_view bytes);

// Default version for a salvage ACK whose MSH-12 could not be read: the NHS base (HL72UK
// is v2.4), which also makes the ACK carry ERR-1 for v2.4 readers as well as ERR-2..8.
inline constexpr std::string_view kSalvageDefaultVersion = "2.4";

// Builds the answer to `bytes` that Message::parse refused with `parse_error`, so that a
// sender always gets one: AR, or CR when the salvaged MSH-15/MSH-16 show enhanced mode
// (sent even for MSH-15 NE or SU: a header that did not parse cannot be trusted to say no
// answer is wanted). MSH-3..6 and MSH-10 come from salvage_header() where found (MSA-2 is
// the salvaged MSH-10, "" when none), MSH-11 defaults to "P", MSH-12 to
// kSalvageDefaultVersion; MSA-3 and one ERR carry `parse_error`.
// Errors: as build_ack.
Result<Message, std::string> build_salvage_ack(std::string_view bytes, const Issue& parse_error,
                                               std::string_view timestamp, std::string_view control_id);

// `t` as an HL7 TS in UTC with an explicit offset: "YYYYMMDDHHMMSS+0000". UTC with an
// offset, rather than UK local time, because an offset-less time is ambiguous across the
// October clock change.
std::string hl7_timestamp(std::chrono::system_clock::time_point t);
// hl7_timestamp(std::chrono::system_clock::now()).
std::string hl7_timestamp_now();

}  // namespace midhurst::hl7v2
