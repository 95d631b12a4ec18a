// Bearer-token authentication and SMART-style scope checks for the HTTP API.
//
// Tokens: the configuration holds only SHA-256(token) in hex (config.h ClientConfig), so a
// leaked config file leaks no credential. A presented token is hashed and compared with every
// client's hash in constant time, and every client is compared (no early exit), so response
// time says nothing about how much of a hash matched or which client came close.
//
// Scopes follow SMART App Launch v1 backend-services syntax
// (https://hl7.org/fhir/smart-app-launch/1.0.0/scopes-and-launch-context/):
//   system/<ResourceType|*>.<read|write|*>
// e.g. system/Patient.read, system/*.read, system/*.write. Only `system/` (client-level)
// scopes exist until user authentication (JWT, a later issue) lands; `user/` and `patient/`
// are refused by parse_scope so that nobody configures a scope that silently means more.
//
// Threading: Authenticator is immutable after construction; authenticate() may be called from
// any number of threads. The free functions are pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "server/config.h"

namespace midhurst::server {

enum class Access : uint8_t { kRead, kWrite };

struct Scope {
  std::string resource;  // a resource type, or "*" for all
  bool read = false;
  bool write = false;
};

// Parses "system/Patient.read". Errors: a sentence saying what is wrong.
Result<Scope, std::string> parse_scope(std::string_view text);

// True iff `scope` grants `access` to `resource_type`. resource_type "*" asks for every type
// (e.g. HL7v2 ingest, which may write any resource): only a "*" scope grants that.
bool scope_grants(const Scope& scope, std::string_view resource_type, Access access);

// SHA-256 of `data` as 64 lower-case hex digits (OpenSSL).
std::string sha256_hex(std::string_view data);

// True iff a == b, in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// An authenticated caller.
struct Principal {
  std::string client;
  std::vector<Scope> scopes;

  // True iff some scope grants `access` to `resource_type`.
  bool may(std::string_view resource_type, Access access) const;
};

enum class AuthFailure : uint8_t {
  kMissing,    // no Authorization header
  kMalformed,  // not "Bearer <token>"
  kUnknown,    // a token no client has
};

class Authenticator {
 public:
  // REQUIRES: every client's scopes parse (config validation has checked them); any that do
  // not are dropped.
  explicit Authenticator(const std::vector<ClientConfig>& clients);

  // Checks an Authorization header value (empty when the header is absent). The scheme
  // "Bearer" is matched case-insensitively (RFC 6750 section 2.1 via RFC 7235).
  Result<Principal, AuthFailure> authenticate(std::string_view authorization) const;
  // The same without the copy: the client's Principal, valid as long as this Authenticator.
  Result<const Principal*, AuthFailure> identify(std::string_view authorization) const;

 private:
  struct Entry {
    std::array<uint8_t, 32> digest;
    Principal principal;
  };
  std::vector<Entry> clients_;
};

}  // namespace midhurst::server
