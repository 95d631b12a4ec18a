// ValidateOnlyIngest: the INTERIM Ingest, until journal + mapping + store are wired in.
//
// It parses and structurally validates each message (hl7v2/validate.h) and answers at once:
//  - a message Message::parse refuses: build_salvage_ack (AR, or CR in enhanced mode), with
//    an ERR saying why;
//  - otherwise outcome_of(validate()) decides: AA/CA when there are no errors (warnings are
//    still listed as ERR segments), AE/CE with one ERR per error, AR/CR for unsupported
//    versions (table 0357 codes 200-203);
//  - nothing when ack_on_commit says no ACK is due (enhanced mode, MSH-15 NE...).
// NOTHING IS STORED: an AA here means "well-formed", not "committed". Every ACK's MSA-3 says
// so, and the server logs a warning at start-up while this ingest is in use.
//
// Threading: submit() is thread-safe and calls `done` before returning.
#pragma once

#include <atomic>
#include <string>

#include "server/ingest.h"

namespace midhurst::server {

class ValidateOnlyIngest : public Ingest {
 public:
  // `receiver_id` prefixes ACK control ids ("MIDHURST" -> MIDHURST-1a2b3c-1).
  explicit ValidateOnlyIngest(std::string receiver_id = "MIDHURST");

  void submit(std::string message, IngestSource source, Done done) override;

  // The ACK for `message`, or "" when none is due. Exposed for tests.
  std::string answer(const std::string& message);

 private:
  std::string next_control_id();
  std::string prefix_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace midhurst::server
