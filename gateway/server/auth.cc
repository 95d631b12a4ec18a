#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cctype>
#include <cstring>
#include <memory>

namespace midhurst::server {

namespace {

bool valid_resource_name(std::string_view s) {
  if (s == "*") return true;
  if (s.empty() || !std::isupper(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return true;
}

// SHA-256 fetched once: EVP_sha256() makes every digest look the algorithm up again (OpenSSL 3
// implicit fetch, under a global lock), which cost more than hashing a token.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : EVP_sha256();
  }();
  return md;
}

std::array<uint8_t, 32> digest_of(std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  // One context per thread, reused: a digest per request should not allocate.
  thread_local const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1)
    EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

// digest_of(token), remembered for the last token each thread hashed: a client sends the same
// token with every request, and hashing it cost about 5% of a cached read. The memo compares
// the whole padded buffer in constant time (CRYPTO_memcmp, lengths included), so response time
// does not tell how much of another client's token, or its length, a guess shares. The token
// is already in the process's memory (the request); tokens over kMemoBytes are not remembered.
std::array<uint8_t, 32> token_digest(std::string_view token) {
  constexpr size_t kMemoBytes = 96;
  struct Memo {
    std::array<char, kMemoBytes> token{};
    size_t size = 0;  // 0: nothing remembered (an empty token is refused before hashing)
    std::array<uint8_t, 32> digest{};
  };
  thread_local Memo memo;
  if (token.empty() || token.size() > kMemoBytes) return digest_of(token);
  std::array<char, kMemoBytes> padded{};
  std::memcpy(padded.data(), token.data(), token.size());
  const bool same_bytes = CRYPTO_memcmp(padded.data(), memo.token.data(), kMemoBytes) == 0;
  if (same_bytes & (memo.size == token.size())) return memo.digest;
  memo.token = padded;
  memo.size = token.size();
  memo.digest = digest_of(token);
  return memo.digest;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

Result<Scope, std::string> parse_scope(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    return err("scope \"" + std::string(text) + "\" is not of the form system/<Type|*>.<read|write|*>");
  const std::string_view context = text.substr(0, slash);
  if (context != "system")
    return err("scope \"" + std::string(text) + "\": only system/ scopes are supported (user/ and "
               "patient/ need user authentication, which is not available yet)");
  const std::string_view rest = text.substr(slash + 1);
  const size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos)
    return err("scope \"" + std::string(text) + "\" lacks .read, .write or .*");
  Scope scope;
  scope.resource = std::string(rest.substr(0, dot));
  const std::string_view access = rest.substr(dot + 1);
  if (!valid_resource_name(scope.resource))
    return err("scope \"" + std::string(text) + "\": \"" + scope.resource +
               "\" is neither a resource type nor *");
  if (access == "read") scope.read = true;
  else if (access == "write") scope.write = true;
  else if (access == "*") scope.read = scope.write = true;
  else
    return err("scope \"" + std::string(text) + "\": access must be read, write or *, not \"" +
               std::string(access) + "\"");
  return scope;
}

bool scope_grants(const Scope& scope, std::string_view resource_type, Access access) {
  if (scope.resource != "*" && scope.resource != resource_type) return false;
  return access == Access::kRead ? scope.read : scope.write;
}

std::string sha256_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest_of(data)) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool Principal::may(std::string_view resource_type, Access access) const {
  for (const Scope& s : scopes)
    if (scope_grants(s, resource_type, access)) return true;
  return false;
}

Authenticator::Authenticator(const std::vector<ClientConfig>& clients) {
  for (const ClientConfig& c : clients) {
    Entry e{};
    if (c.token_sha256.size() != 64) continue;
    for (size_t i = 0; i < 32; ++i)
      e.digest[i] = static_cast<uint8_t>(std::stoi(c.token_sha256.substr(2 * i, 2), nullptr, 16));
    e.principal.client = c.name;
    for (const std::string& s : c.scopes)
      if (auto scope = parse_scope(s)) e.principal.scopes.push_back(*scope);
    clients_.push_back(std::move(e));
  }
}

Result<Principal, AuthFailure> Authenticator::authenticate(std::string_view authorization) const {
  auto found = identify(authorization);
  if (!found) return err(found.error());
  return **found;
}

Result<const Principal*, AuthFailure> Authenticator::identify(std::string_view authorization) const {
  if (authorization.empty()) return err(AuthFailure::kMissing);
  const size_t space = authorization.find(' ');
  if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "Bearer"))
    return err(AuthFailure::kMalformed);
  std::string_view token = authorization.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return err(AuthFailure::kMalformed);
  const std::array<uint8_t, 32> digest = token_digest(token);
  // Compare with every client, whatever matched: the time taken must not depend on which
  // client (if any) the token belongs to.
  const Entry* found = nullptr;
  for (const Entry& e : clients_) {
    const bool match = CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0;
    if (match) found = &e;
  }
  if (!found) return err(AuthFailure::kUnknown);
  return &found->principal;
}

}  // namespace midhurst::server
