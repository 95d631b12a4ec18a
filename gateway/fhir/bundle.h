// fhir::BundleBuilder: Bundles of the five kinds Midhurst sends, built as RapidJSON values.
//
// https://hl7.org/fhir/R4/bundle.html and https://hl7.org/fhir/R4/http.html#transaction:
//  * transaction: every entry has request.method and request.url. Midhurst writes entries keyed
//    by business identifier so that posting the same Bundle twice creates nothing twice:
//    add_conditional_create() -> POST with ifNoneExist "identifier=SYSTEM|VALUE";
//    add_conditional_update() -> PUT to "Type?identifier=SYSTEM|VALUE". Entries refer to each
//    other by fullUrl (urn:uuid:...), or by conditional reference (conditional_reference()),
//    which the server resolves.
//  * message: the first entry is the MessageHeader (add it first; finish() checks).
//  * document: the first entry is the Composition; identifier and timestamp are required.
//  * searchset: entries carry search.mode (match | include); total is optional.
//  * collection: plain entries.
// Resources are copied into the Bundle's own document, so the caller keeps its own values; or,
// built with the builder's allocator(), moved in (the Value&& overloads) without a copy.
// finish() checks the rules above (bdl-* invariants that concern the builder) and returns the
// Bundle, or kStructure naming the rule broken.
//
// Thread-safety: a BundleBuilder is a plain value; one per thread.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "fhir/error.h"

namespace midhurst::fhir {

enum class BundleType { kTransaction, kMessage, kDocument, kSearchset, kCollection };

// The FHIR code: "transaction", "message", "document", "searchset", "collection".
std::string_view to_code(BundleType type);

// "identifier=SYSTEM|VALUE" as a search parameter: the FHIR search escapes (a backslash before
// each | , $ and backslash inside system and value, https://hl7.org/fhir/R4/search.html#escaping) and then URL
// percent-encoding of everything but unreserved characters and ':' '/' (which a query allows),
// and the separating '|'. Example: identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552
std::string identifier_search(std::string_view system, std::string_view value);

// "Type?identifier=SYSTEM|VALUE": a conditional reference or conditional update URL.
std::string conditional_reference(std::string_view resource_type, std::string_view system,
                                  std::string_view value);
// The same, written over `out`: a caller that keeps `out` from call to call allocates nothing
// once it has grown.
void conditional_reference(std::string_view resource_type, std::string_view system,
                           std::string_view value, std::string& out);

class BundleBuilder {
 public:
  explicit BundleBuilder(BundleType type);

  // Bundle.id, Bundle.identifier (system|value), Bundle.timestamp (an instant with offset).
  BundleBuilder& id(std::string_view id);
  BundleBuilder& identifier(std::string_view system, std::string_view value);
  BundleBuilder& timestamp(std::string_view instant);
  // searchset only: Bundle.total.
  BundleBuilder& total(unsigned total);
  // Bundle.link (relation self/next/previous, url).
  BundleBuilder& link(std::string_view relation, std::string_view url);

  // collection, message, document: an entry with fullUrl (may be empty) and the resource.
  BundleBuilder& add(const rapidjson::Value& resource, std::string_view full_url);
  // searchset: an entry with search.mode "match" or "include".
  BundleBuilder& add_search_result(const rapidjson::Value& resource, std::string_view full_url,
                                   bool include = false);
  // transaction: POST to the resource type, created only if no resource has that identifier.
  BundleBuilder& add_conditional_create(const rapidjson::Value& resource,
                                        std::string_view full_url, std::string_view system,
                                        std::string_view value);
  // transaction: PUT Type?identifier=SYSTEM|VALUE (update the match, or create if none).
  BundleBuilder& add_conditional_update(const rapidjson::Value& resource,
                                        std::string_view full_url, std::string_view system,
                                        std::string_view value);
  // transaction: plain POST (create) or PUT Type/id (update by id; REQUIRES resource.id).
  BundleBuilder& add_create(const rapidjson::Value& resource, std::string_view full_url);
  BundleBuilder& add_update(const rapidjson::Value& resource, std::string_view full_url);

  // The same, moving a resource built with allocator() into the Bundle instead of copying it
  // (`resource` is left null). REQUIRES: every string and container of `resource` was
  // allocated by allocator() (or is a constant StringRef).
  rapidjson::Document::AllocatorType& allocator() { return doc_.GetAllocator(); }
  BundleBuilder& add_conditional_create(rapidjson::Value&& resource, std::string_view full_url,
                                        std::string_view system, std::string_view value);
  BundleBuilder& add_conditional_update(rapidjson::Value&& resource, std::string_view full_url,
                                        std::string_view system, std::string_view value);
  BundleBuilder& add_create(rapidjson::Value&& resource, std::string_view full_url);

  // The Bundle, or kStructure: a transaction entry without request (a non-transaction add on a
  // transaction builder, or the reverse), a message whose first entry is not a MessageHeader,
  // a document whose first entry is not a Composition or that lacks identifier or timestamp,
  // total on a non-searchset, add_update without an id. The builder is spent afterwards.
  Result<rapidjson::Document> finish();

 private:
  rapidjson::Value& entry(const rapidjson::Value& resource, std::string_view full_url);
  rapidjson::Value& entry_moved(rapidjson::Value& resource, std::string_view full_url);
  void request(rapidjson::Value& entry, std::string_view method, std::string_view url,
               std::string_view if_none_exist = {});

  BundleType type_;
  rapidjson::Document doc_;
  rapidjson::Value entries_{rapidjson::kArrayType};
  rapidjson::Value links_{rapidjson::kArrayType};
  std::string error_;  // the first misuse, reported by finish()
};

}  // namespace midhurst::fhir
