// Ingest: where inbound HL7v2 messages go, from MLLP and from POST /hl7v2 alike.
//
// The servers know nothing of journals, mappings or stores: they hand each message to an
// Ingest and write back whatever ACK it produces, when it produces it. The lead wires the
// real implementation (journal + mapping + store, ACK after durable commit); until then
// ValidateOnlyIngest (validate_ingest.h) stands in.
//
// Contract of submit():
//  - `done` is called exactly once, from any thread, possibly before submit() returns. The
//    servers post it back onto the connection's strand, so it may be called while holding
//    the implementation's locks as long as it does not block: it only queues.
//  - `ack` is the complete ACK message (no MLLP framing) to send, or "" when no ACK is due
//    (enhanced mode with MSH-15 NE, say). With the durable implementation, `done` runs only
//    after the commit: "ACK only after commit" is the Ingest's promise, not the server's.
//  - Order: for one connection (one Source::connection_id), submit() is called in the order
//    the messages arrived, and ACKs are written in that same order whatever order the
//    `done` calls come in. At most MllpLimits::max_in_flight messages of one connection are
//    outstanding at once. The Ingest must apply one connection's messages in submission order
//    (the design's "messages from one connection are applied in order").
//  - `done` may be called after the connection has gone (its ACK is then dropped and counted)
//    and must not be called after the Ingest is destroyed: the servers are stopped first.
//  - submit() must not block for long: it runs on an I/O thread.
//
// Threading: submit() is called concurrently from many I/O threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace midhurst::server {

// Where a message came from, for the journal's provenance and for logs.
struct IngestSource {
  std::string transport;       // "mllp" or "http"
  std::string peer;            // remote address "10.1.2.3:51234"
  std::string client;          // authenticated HTTP client name; "" for MLLP (no auth yet)
  uint64_t connection_id = 0;  // unique per connection within this process
  uint64_t sequence = 0;       // 1, 2, ... per connection
};

class Ingest {
 public:
  using Done = std::function<void(std::string ack)>;
  virtual ~Ingest() = default;

  // Takes `message` (HL7v2 bytes as received, unframed) and eventually calls done(ack).
  virtual void submit(std::string message, IngestSource source, Done done) = 0;
};

// MSA-1 of an ACK ("AA"), read without a full parse; "" when there is none. For metrics and
// logs, which count messages by the ACK code the Ingest chose.
std::string ack_code_of(std::string_view ack);

}  // namespace midhurst::server
