// Authentication: token hashing, constant-time comparison, scope syntax and matching.
#include <catch2/catch.hpp>

#include "server/auth.h"

namespace midhurst::server {
namespace {

TEST_CASE("auth: sha256_hex matches the FIPS 180-2 test vector", "[auth]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("auth: constant_time_equal", "[auth]") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK(constant_time_equal("", ""));
}

TEST_CASE("auth: scope syntax", "[auth]") {
  auto s = parse_scope("system/Patient.read");
  REQUIRE(s.ok());
  CHECK(s->resource == "Patient");
  CHECK(s->read);
  CHECK_FALSE(s->write);
  auto all = parse_scope("system/*.*");
  REQUIRE(all.ok());
  CHECK(all->read);
  CHECK(all->write);
  CHECK_FALSE(parse_scope("Patient.read").ok());
  CHECK_FALSE(parse_scope("user/Patient.read").ok());
  CHECK_FALSE(parse_scope("patient/*.read").ok());
  CHECK_FALSE(parse_scope("system/Patient").ok());
  CHECK_FALSE(parse_scope("system/patient.read").ok());
  CHECK_FALSE(parse_scope("system/Patient.delete").ok());
  CHECK_FALSE(parse_scope("system/.read").ok());
  CHECK(parse_scope("system/Patient.delete").error().find("access must be read, write or *") != std::string::npos);
}

TEST_CASE("auth: scope matching", "[auth]") {
  const Scope patient_read = *parse_scope("system/Patient.read");
  const Scope all_read = *parse_scope("system/*.read");
  const Scope all_write = *parse_scope("system/*.write");
  CHECK(scope_grants(patient_read, "Patient", Access::kRead));
  CHECK_FALSE(scope_grants(patient_read, "Patient", Access::kWrite));
  CHECK_FALSE(scope_grants(patient_read, "Encounter", Access::kRead));
  CHECK_FALSE(scope_grants(patient_read, "*", Access::kRead));  // one type is not every type
  CHECK(scope_grants(all_read, "Encounter", Access::kRead));
  CHECK(scope_grants(all_read, "*", Access::kRead));
  CHECK_FALSE(scope_grants(all_read, "Encounter", Access::kWrite));
  CHECK(scope_grants(all_write, "*", Access::kWrite));
  CHECK_FALSE(scope_grants(all_write, "*", Access::kRead));
}

TEST_CASE("auth: bearer tokens", "[auth]") {
  std::vector<ClientConfig> clients = {
      {"reader", sha256_hex("reader-token"), {"system/Patient.read"}},
      {"writer", sha256_hex("writer-token"), {"system/*.write", "system/*.read"}},
  };
  Authenticator auth(clients);
  CHECK(auth.authenticate("").error() == AuthFailure::kMissing);
  CHECK(auth.authenticate("Basic dXNlcjpwYXNz").error() == AuthFailure::kMalformed);
  CHECK(auth.authenticate("Bearer").error() == AuthFailure::kMalformed);
  CHECK(auth.authenticate("Bearer   ").error() == AuthFailure::kMalformed);
  CHECK(auth.authenticate("Bearer nope").error() == AuthFailure::kUnknown);
  CHECK(auth.authenticate("Bearer reader-token2").error() == AuthFailure::kUnknown);

  auto reader = auth.authenticate("Bearer reader-token");
  REQUIRE(reader.ok());
  CHECK(reader->client == "reader");
  CHECK(reader->may("Patient", Access::kRead));
  CHECK_FALSE(reader->may("Patient", Access::kWrite));

  auto writer = auth.authenticate("bearer  writer-token ");  // scheme is case-insensitive
  REQUIRE(writer.ok());
  CHECK(writer->client == "writer");
  CHECK(writer->may("*", Access::kWrite));
  CHECK(writer->may("Flag", Access::kRead));
}

// The per-thread memo of the last token's digest must never answer for another token: one that
// shares a prefix, is a prefix, differs in length or in its last byte, or is too long to be
// remembered; and the same token means the same client in every Authenticator.
TEST_CASE("auth: repeated and alternating tokens on one thread", "[auth]") {
  const std::string long_token(300, 'L');
  std::vector<ClientConfig> clients = {
      {"a", sha256_hex("token-a"), {"system/Patient.read"}},
      {"b", sha256_hex("token-ab"), {"system/*.read"}},
      {"long", sha256_hex(long_token), {"system/*.read"}},
  };
  Authenticator auth(clients);
  Authenticator other({{"other", sha256_hex("token-a"), {"system/*.write"}}});
  auto client = [](const Authenticator& a, const std::string& header) {
    auto r = a.authenticate(header);
    return r.ok() ? r->client : std::string("(refused)");
  };
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    CHECK(client(auth, "Bearer token-a") == "a");
    CHECK(client(auth, "Bearer token-a") == "a");
    CHECK(client(auth, "Bearer token-ab") == "b");
    CHECK(auth.authenticate("Bearer token-a").ok());
    CHECK(auth.authenticate("Bearer token-").error() == AuthFailure::kUnknown);
    CHECK(auth.authenticate("Bearer token-b").error() == AuthFailure::kUnknown);
    CHECK(auth.authenticate(std::string("Bearer token-a") + '\0').error() == AuthFailure::kUnknown);
    CHECK(client(other, "Bearer token-a") == "other");
    CHECK(client(auth, "Bearer " + long_token) == "long");
    CHECK(client(auth, "Bearer " + long_token) == "long");
    CHECK(auth.authenticate("Bearer " + long_token + "x").error() == AuthFailure::kUnknown);
    CHECK(auth.authenticate("Bearer " + long_token.substr(1)).error() == AuthFailure::kUnknown);
  }
  CHECK(sha256_hex("token-a") == sha256_hex("token-a"));
  CHECK(sha256_hex("token-a") != sha256_hex("token-ab"));
}

}  // namespace
}  // namespace midhurst::server
