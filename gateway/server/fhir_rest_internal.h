// The pieces the FHIR REST handlers share (fhir_rest.cc: read, history, search, AuditEvent;
// fhir_rest_summary.cc: $everything and $summary). Internal to the server module.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <rapidjson/document.h>

#include "fhir/search_params.h"
#include "mapping/fhir_render.h"
#include "server/fhir_rest.h"
#include "server/fhir_rest_audit.h"
#include "server/fhir_rest_format.h"
#include "server/fhir_rest_search.h"
#include "server/render_cache.h"
#include "store/store.h"

namespace midhurst::server::rest {

// One request being answered: who asks, in which format, against which renderer.
struct Call {
  const HttpRequest* request = nullptr;
  const RequestContext* context = nullptr;
  std::shared_ptr<const mapping::FhirRenderer> renderer;
  Negotiated how;
  std::string base;  // "http://host:port", for fullUrl and links
  std::vector<std::pair<std::string, std::string>> params;  // query (+ form body for _search)

  const fhir::Model* model() const { return renderer ? renderer->profiles().fhir_model() : nullptr; }
  // The answer is compact JSON: rendered resources can be served as cached text.
  bool compact_json() const { return how.format == WireFormat::kJson && !how.pretty; }
};

// A resource found by type and id, with the entity version it was rendered from.
struct Found {
  rapidjson::Document resource;  // empty when `cached` holds the resource
  // Lookups that accept text (Service::lookup with `text`): the resource as compact FHIR JSON,
  // (*cached)[match], from the render cache or rendered and written for it.
  std::shared_ptr<const CachedRender> cached;
  std::size_t match = 0;
  store::EntityVersion version;  // json cleared
  // The care entity names a record that replaced it (`replacedBy`): only such a Patient can be
  // merged away (the store's invariant M1), so only then is the merge link looked up.
  bool replaced = false;
};

// read/vread outcome: found, gone (a tombstone), not found, or a store error (the message).
struct Lookup {
  enum class Kind { kFound, kGone, kNotFound, kError } kind = Kind::kNotFound;
  std::optional<Found> found;
  std::string error;
  std::int64_t gone_version = 0;
};

class Service {
 public:
  explicit Service(FhirRestDeps deps) : deps_(std::move(deps)) {}

  store::Store& store() const { return *deps_.store; }
  const FhirRestDeps& deps() const { return deps_; }

  // Starts a call: the renderer and the negotiated format; false after answering the error.
  bool begin(Call& call, const HttpRequest& request, const RequestContext& context, const Respond& respond,
             bool form_body = false) const;

  // Current (version 0) or a given version of type/id. With `text`, the resource may come back
  // as compact JSON text (Found::cached) instead of a document: not for a Provenance, nor for a
  // Patient merged away (whose document the read handler adds a link to).
  Lookup lookup(const Call& call, std::string_view type, std::string_view id, std::int64_t version = 0,
                bool text = false) const;

  // The resources of `resource_type` an entity version renders (filtered to `id` when given).
  std::vector<mapping::RenderedResource> render(const Call& call, std::string_view resource_type,
                                                const store::EntityVersion& v, std::string_view id = {}) const;

  // The same as compact FHIR JSON text, through the render cache. Null when the version's
  // render cannot be kept as text (a Provenance: its targets come from other rows).
  std::shared_ptr<const CachedRender> render_text(const Call& call, std::string_view resource_type,
                                                  const store::EntityVersion& v, std::string_view id = {}) const;

  // References to the entities whose versions cite the Provenance `provenance_id` (its targets,
  // from the store), appended to `out` once each.
  void provenance_targets(const std::string& provenance_id, std::vector<care::Reference>* out) const;

  // The entity type searches of `resource_type` page over; nullopt when it is not served.
  std::optional<care::EntityType> search_entity(const mapping::FhirRenderer& r, std::string_view resource_type) const;

  // Queues the audit record; false when the writer has no room (answer 503).
  bool audit(const Call& call, std::string interaction, std::string outcome, std::vector<std::string> patients) const;

  // The patients a resource concerns: its own id for a Patient, else its Patient references.
  static void patients_of(const rapidjson::Value& resource, std::vector<std::string>* out);

  HttpResponse fail(const Call& call, int status, fhir::IssueType type, std::string_view why) const {
    return outcome_response(status, type, why, call.how, call.model());
  }

  // Runs a search of `type` with already-parsed parameters; the matches of one page.
  struct SearchPage {
    std::vector<mapping::RenderedResource> matches;
    // Searches run with `text` whose matches need no document (no filter on rendered
    // resources): the matches as compact JSON instead, `matches` empty.
    std::vector<std::shared_ptr<const CachedRender>> texts;  // keeps `cached` alive
    std::vector<const CachedResource*> cached;
    // Per match (or cached entry): its entity version's Provenance id ("" = none) and entity.
    std::vector<std::string> provenance;
    std::vector<std::string> entity_ids;
    std::string next_cursor, prev_cursor;
    std::optional<std::int64_t> total;
    std::vector<std::string> warnings;
  };
  Result<SearchPage, std::pair<int, std::string>> search(const Call& call, std::string_view type,
                                                         const fhir::SearchRequest& request, bool want_total,
                                                         bool text = false) const;

 private:
  FhirRestDeps deps_;
};

// "Patient/abc" -> ("Patient", "abc"); nullopt for anything else (logical, absolute, contained).
std::optional<std::pair<std::string, std::string>> literal_reference(const rapidjson::Value& ref);

// Bundle entry fullUrl.
inline std::string full_url(const Call& call, std::string_view type, std::string_view id) {
  return call.base + "/" + std::string(type) + "/" + std::string(id);
}

// Query text for links: name=value pairs percent-encoded.
std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params);

// The current time as a FHIR instant.
std::string now_instant();

// A FHIR instant ("2024-03-01T10:00:00.000Z") as an HTTP date ("Fri, 01 Mar 2024 10:00:00 GMT",
// RFC 9110 IMF-fixdate) for Last-Modified; "" when the text does not start with an instant.
std::string http_date(std::string_view instant);

// Entities a Bundle holds resources of, each with its version's Provenance id ("" = none):
// (entity type, entity id, Provenance id).
using ProvenanceCites = std::vector<std::tuple<care::EntityType, std::string, std::string>>;
// How a Provenance gathered for a Bundle lists its targets: only the cited entities (a document's
// entries), or every version it produced, as a read of it shows (a searchset's includes).
enum class ProvenanceTargets { kCited, kAll };
// The Provenance resources of `cites`, each rendered once, in id order; none when the profiles do
// not serve Provenance or the client may not read it (fhir_rest_summary.cc).
std::vector<mapping::RenderedResource> cited_provenance(const Service& s, const Call& call, const ProvenanceCites& cites,
                                                        ProvenanceTargets targets);

void add_summary_routes(HttpApp& app, std::shared_ptr<const Service> service);

}  // namespace midhurst::server::rest
