#include "server/validate_ingest.h"

#include <chrono>

#include "hl7v2/ack.h"
#include "hl7v2/message.h"
#include "hl7v2/validate.h"

namespace midhurst::server {

namespace {

std::string base36(uint64_t n) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[n % 36]);
    n /= 36;
  } while (n);
  return out;
}

constexpr std::string_view kInterimText = "validated only, not stored (interim ingest)";

}  // namespace

ValidateOnlyIngest::ValidateOnlyIngest(std::string receiver_id) {
  // Start time in the prefix keeps ids unique across restarts; the counter within a run.
  // "MH" + ~6 + "." + counter stays within v2.4's 20-character MSH-10.
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  prefix_ = (receiver_id.empty() ? std::string("MH") : receiver_id.substr(0, 2)) +
            base36(static_cast<uint64_t>(secs)) + ".";
}

std::string ValidateOnlyIngest::next_control_id() {
  return prefix_ + std::to_string(counter_.fetch_add(1, std::memory_order_relaxed) + 1);
}

std::string ValidateOnlyIngest::answer(const std::string& bytes) {
  auto parsed = hl7v2::Message::parse(bytes);
  if (!parsed) {
    auto ack = hl7v2::build_salvage_ack(bytes, parsed.error(), hl7v2::hl7_timestamp_now(), next_control_id());
    return ack ? ack->encode() : std::string();
  }
  const hl7v2::Message& message = *parsed;
  hl7v2::Issues issues = hl7v2::validate(message);
  const hl7v2::AckOutcome outcome = hl7v2::outcome_of(issues);
  const std::optional<hl7v2::AckCode> code = hl7v2::ack_on_commit(message, outcome);
  if (!code) return {};
  hl7v2::AckRequest request;
  request.code = *code;
  request.timestamp = hl7v2::hl7_timestamp_now();
  request.control_id = next_control_id();
  request.text = std::string(kInterimText);
  request.issues = std::move(issues);
  auto ack = hl7v2::build_ack(message, request);
  return ack ? ack->encode() : std::string();
}

void ValidateOnlyIngest::submit(std::string message, IngestSource, Done done) {
  done(answer(message));
}

}  // namespace midhurst::server
