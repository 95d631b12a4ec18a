#include "fhir/bundle.h"

#include <array>
#include <cstdio>

namespace midhurst::fhir {

namespace {
rapidjson::Value text(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// Characters a search value escapes with a backslash, and those a query keeps as they are.
constexpr std::array<bool, 256> kSearchSpecial = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view("\\|,$")) t[c] = true;
  return t;
}();
constexpr std::array<bool, 256> kUnreserved = [] {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (unsigned char c : std::string_view("-._~:/")) t[c] = true;
  return t;
}();

// Appends `in` search-escaped and then percent-encoded: most system URIs and identifier values
// need neither, and are appended whole.
void encode_search_value(std::string_view in, std::string& out) {
  bool plain = true;
  // One table look-up per byte and no branch in the loop (unrolled).
#pragma GCC unroll 8
  for (unsigned char c : in) plain &= kUnreserved[c];
  if (plain) {
    out.append(in);
    return;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto put = [&](unsigned char c) {
    if (kUnreserved[c]) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  };
  for (unsigned char c : in) {
    if (kSearchSpecial[c]) put('\\');
    put(c);
  }
}

std::string_view type_of(const rapidjson::Value& r) {
  if (!r.IsObject()) return {};
  auto it = r.FindMember("resourceType");
  if (it == r.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}
}  // namespace

std::string_view to_code(BundleType type) {
  switch (type) {
    case BundleType::kTransaction: return "transaction";
    case BundleType::kMessage: return "message";
    case BundleType::kDocument: return "document";
    case BundleType::kSearchset: return "searchset";
    case BundleType::kCollection: return "collection";
  }
  return "collection";
}

namespace {
void append_identifier_search(std::string_view system, std::string_view value, std::string& out) {
  out.append("identifier=");
  encode_search_value(system, out);
  out += '|';
  encode_search_value(value, out);
}
}  // namespace

std::string identifier_search(std::string_view system, std::string_view value) {
  std::string out;
  out.reserve(11 + system.size() + value.size() + 8);
  append_identifier_search(system, value, out);
  return out;
}

std::string conditional_reference(std::string_view resource_type, std::string_view system,
                                  std::string_view value) {
  std::string out;
  conditional_reference(resource_type, system, value, out);
  return out;
}

void conditional_reference(std::string_view resource_type, std::string_view system,
                           std::string_view value, std::string& out) {
  out.clear();
  out.reserve(resource_type.size() + 1 + 11 + system.size() + value.size() + 8);
  out.append(resource_type).append("?");
  append_identifier_search(system, value, out);
}

BundleBuilder::BundleBuilder(BundleType type) : type_(type) {
  doc_.SetObject();
  auto& a = doc_.GetAllocator();
  doc_.AddMember("resourceType", "Bundle", a);
  doc_.AddMember("type", text(to_code(type), a), a);
}

BundleBuilder& BundleBuilder::id(std::string_view id) {
  doc_.AddMember("id", text(id, doc_.GetAllocator()), doc_.GetAllocator());
  return *this;
}

BundleBuilder& BundleBuilder::identifier(std::string_view system, std::string_view value) {
  auto& a = doc_.GetAllocator();
  rapidjson::Value ident(rapidjson::kObjectType);
  ident.AddMember("system", text(system, a), a);
  ident.AddMember("value", text(value, a), a);
  doc_.AddMember("identifier", ident, a);
  return *this;
}

BundleBuilder& BundleBuilder::timestamp(std::string_view instant) {
  doc_.AddMember("timestamp", text(instant, doc_.GetAllocator()), doc_.GetAllocator());
  return *this;
}

BundleBuilder& BundleBuilder::total(unsigned total) {
  if (type_ != BundleType::kSearchset && error_.empty()) {
    error_ = "Bundle.total is only for searchset and history Bundles (bdl-1)";
  }
  doc_.AddMember("total", total, doc_.GetAllocator());
  return *this;
}

BundleBuilder& BundleBuilder::link(std::string_view relation, std::string_view url) {
  auto& a = doc_.GetAllocator();
  rapidjson::Value l(rapidjson::kObjectType);
  l.AddMember("relation", text(relation, a), a);
  l.AddMember("url", text(url, a), a);
  links_.PushBack(l, a);
  return *this;
}

rapidjson::Value& BundleBuilder::entry(const rapidjson::Value& resource,
                                       std::string_view full_url) {
  auto& a = doc_.GetAllocator();
  rapidjson::Value e(rapidjson::kObjectType);
  if (!full_url.empty()) e.AddMember("fullUrl", text(full_url, a), a);
  e.AddMember("resource", rapidjson::Value(resource, a), a);
  entries_.PushBack(e, a);
  return entries_[entries_.Size() - 1];
}

rapidjson::Value& BundleBuilder::entry_moved(rapidjson::Value& resource, std::string_view full_url) {
  auto& a = doc_.GetAllocator();
  rapidjson::Value e(rapidjson::kObjectType);
  if (!full_url.empty()) e.AddMember("fullUrl", text(full_url, a), a);
  e.AddMember("resource", resource, a);  // rapidjson moves: `resource` is null afterwards
  entries_.PushBack(e, a);
  return entries_[entries_.Size() - 1];
}

void BundleBuilder::request(rapidjson::Value& e, std::string_view method, std::string_view url,
                            std::string_view if_none_exist) {
  auto& a = doc_.GetAllocator();
  rapidjson::Value r(rapidjson::kObjectType);
  r.AddMember("method", text(method, a), a);
  r.AddMember("url", text(url, a), a);
  if (!if_none_exist.empty()) r.AddMember("ifNoneExist", text(if_none_exist, a), a);
  e.AddMember("request", r, a);
}

BundleBuilder& BundleBuilder::add(const rapidjson::Value& resource, std::string_view full_url) {
  if (type_ == BundleType::kTransaction && error_.empty()) {
    error_ = "a transaction entry needs a request: use add_create/add_update/add_conditional_*";
  }
  entry(resource, full_url);
  return *this;
}

BundleBuilder& BundleBuilder::add_search_result(const rapidjson::Value& resource,
                                                std::string_view full_url, bool include) {
  if (type_ != BundleType::kSearchset && error_.empty()) {
    error_ = "search results belong in a searchset Bundle";
  }
  auto& a = doc_.GetAllocator();
  auto& e = entry(resource, full_url);
  rapidjson::Value s(rapidjson::kObjectType);
  s.AddMember("mode", rapidjson::StringRef(include ? "include" : "match"), a);
  e.AddMember("search", s, a);
  return *this;
}

BundleBuilder& BundleBuilder::add_conditional_create(const rapidjson::Value& resource,
                                                     std::string_view full_url,
                                                     std::string_view system,
                                                     std::string_view value) {
  if (type_ != BundleType::kTransaction && error_.empty()) error_ = "requests belong in a transaction";
  request(entry(resource, full_url), "POST", type_of(resource), identifier_search(system, value));
  return *this;
}

BundleBuilder& BundleBuilder::add_conditional_update(const rapidjson::Value& resource,
                                                     std::string_view full_url,
                                                     std::string_view system,
                                                     std::string_view value) {
  if (type_ != BundleType::kTransaction && error_.empty()) error_ = "requests belong in a transaction";
  request(entry(resource, full_url), "PUT", conditional_reference(type_of(resource), system, value));
  return *this;
}

BundleBuilder& BundleBuilder::add_create(const rapidjson::Value& resource,
                                         std::string_view full_url) {
  if (type_ != BundleType::kTransaction && error_.empty()) error_ = "requests belong in a transaction";
  request(entry(resource, full_url), "POST", type_of(resource));
  return *this;
}

BundleBuilder& BundleBuilder::add_update(const rapidjson::Value& resource,
                                         std::string_view full_url) {
  if (type_ != BundleType::kTransaction && error_.empty()) error_ = "requests belong in a transaction";
  std::string id = resource.IsObject() && resource.HasMember("id") && resource["id"].IsString()
                       ? resource["id"].GetString()
                       : "";
  if (id.empty() && error_.empty()) error_ = "add_update needs a resource with an id";
  request(entry(resource, full_url), "PUT", std::string(type_of(resource)) + "/" + id);
  return *this;
}

BundleBuilder& BundleBuilder::add_conditional_create(rapidjson::Value&& resource, std::string_view full_url,
                                                     std::string_view system, std::string_view value) {
  if (type_ != BundleType::kTransaction && error_.empty()) error_ = "requests belong in a transaction";
  const std::string type(type_of(resource));
  request(entry_moved(resource, full_url), "POST", type, identifier_search(system, value));
  return *this;
}

BundleBuilder& BundleBuilder::add_conditional_update(rapidjson::Value&& resource, std::string_view full_url,
                                                     std::string_view system, std::string_view value) {
  if (type_ != BundleType::kTransaction && error_.empty()) error_ = "requests belong in a transaction";
  const std::string url = conditional_reference(type_of(resource), system, value);
  request(entry_moved(resource, full_url), "PUT", url);
  return *this;
}

BundleBuilder& BundleBuilder::add_create(rapidjson::Value&& resource, std::string_view full_url) {
  if (type_ != BundleType::kTransaction && error_.empty()) error_ = "requests belong in a transaction";
  const std::string type(type_of(resource));
  request(entry_moved(resource, full_url), "POST", type);
  return *this;
}

Result<rapidjson::Document> BundleBuilder::finish() {
  if (!error_.empty()) return make_error(Error::Code::kStructure, "Bundle", error_);
  auto first_type = [&]() -> std::string_view {
    return entries_.Empty() ? std::string_view() : type_of(entries_[0]["resource"]);
  };
  if (type_ == BundleType::kMessage && first_type() != "MessageHeader") {
    return make_error(Error::Code::kStructure, "Bundle.entry[0]",
                      "a message Bundle starts with its MessageHeader (bdl-8)");
  }
  if (type_ == BundleType::kDocument) {
    if (first_type() != "Composition") {
      return make_error(Error::Code::kStructure, "Bundle.entry[0]",
                        "a document Bundle starts with its Composition (bdl-11)");
    }
    if (!doc_.HasMember("identifier") || !doc_.HasMember("timestamp")) {
      return make_error(Error::Code::kStructure, "Bundle",
                        "a document Bundle needs identifier and timestamp (bdl-9, bdl-10)");
    }
  }
  auto& a = doc_.GetAllocator();
  if (!links_.Empty()) doc_.AddMember("link", links_, a);
  if (!entries_.Empty()) doc_.AddMember("entry", entries_, a);
  return std::move(doc_);
}

}  // namespace midhurst::fhir
