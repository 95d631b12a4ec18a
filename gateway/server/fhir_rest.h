// The FHIR R4 REST read API of `midhurst serve`: read, vread, history, search, $everything and
// $summary over the care entities in the Store, rendered as FHIR by the care→fhir profiles
// (mapping/fhir_render.h), plus AuditEvent for the reads themselves.
//
// Routes (registered per served resource type, so that HttpApp checks the scope
// system/<Type>.read and answers 403 itself):
//   GET  /{Type}/{id}                    read; ETag W/"version", Last-Modified; If-None-Match
//                                        -> 304; a deleted entity -> 410; a merged-away Patient
//                                        answers with link replaced-by its survivor
//   GET  /{Type}/{id}/_history/{vid}     vread
//   GET  /{Type}/{id}/_history           instance history (Bundle type history)
//   GET  /{Type}/_history                type history
//   GET  /{Type}?...   POST /{Type}/_search (form body)   search (fhir_rest_search.h)
//   GET  /Patient/{id}/$everything       searchset Bundle: the patient and what refers to it,
//                                        paged by _count with next links
//   GET  /Patient/{id}/$summary          document Bundle (fhir_rest_summary.cc)
//   GET  /AuditEvent?patient=...         the audit trail (scope system/AuditEvent.read)
// Formats: JSON and XML, by _format then Accept (fhir_rest_format.h); every error of these
// handlers is an OperationOutcome in the negotiated format (so are the errors HttpApp finds
// before the handler, 401/403/404/405/415, see http_app.h).
//
// Audit: every read, vread, history and search that returns patient data queues one
// AuditRecord on the AuditWriter (fhir_rest_audit.h) before the response is handed back; the
// writer commits within a bounded time (see there).
//
// Threading: handlers are thread-safe; the referenced objects must outlive the HttpApp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/http_app.h"

namespace midhurst::store {
class Store;
}
namespace midhurst::mapping {
class FhirRenderer;
class ProfileStore;
}

namespace midhurst::server {

class AuditWriter;
class RenderCache;

// The renderer for the profiles in use (a new one after a reload); nullptr when none loads.
using RendererSource = std::function<std::shared_ptr<const mapping::FhirRenderer>()>;

// A RendererSource over a ProfileStore: builds a FhirRenderer for the current set the first
// time it is asked after each reload, and logs (once per set) when one cannot be built.
RendererSource renderer_source(const mapping::ProfileStore& profiles);

struct FhirRestDeps {
  store::Store* store = nullptr;
  RendererSource renderer;
  AuditWriter* audit = nullptr;
  // Rendered resources kept as compact JSON text (render_cache.h); null or disabled: none.
  // Its hits, misses and bytes are served in /metrics.
  RenderCache* render_cache = nullptr;
  // Resource types to route (besides AuditEvent). Default: kDefaultFhirTypes. A routed type
  // that the loaded profiles do not serve answers 404 saying so.
  std::vector<std::string> types;
};

// The resource types the read API routes by default.
extern const std::vector<std::string> kDefaultFhirTypes;

void add_fhir_rest_routes(HttpApp& app, const FhirRestDeps& deps);

}  // namespace midhurst::server
