// The gateway's own routes (FHIR resource routes come with the store):
//   GET  /healthz   public  200 {"status":"up"}: the process answers
//   GET  /readyz    public  200 or 503 with the Readiness report
//   GET  /metadata  public  the CapabilityStatement (conformance/CapabilityStatement.json), FHIR
//                   JSON, or FHIR XML (written with the model HttpApp has) by _format / Accept
//   GET  /metrics   any authenticated client; Prometheus text format 0.0.4
//   POST /hl7v2     scope system/*.write; body x-application/hl7-v2+er7 (one message),
//                   handed to the Ingest like an MLLP frame; 200 with the ACK
//                   (x-application/hl7-v2+er7) whatever its code, since the ACK carries the
//                   verdict; 204 when no ACK is due (enhanced mode, MSH-15 NE)
//
// Threading: the handlers are thread-safe; the referenced objects must outlive the HttpApp.
#pragma once

#include <string>

#include "common/result.h"
#include "server/http_app.h"
#include "server/ingest.h"
#include "server/readiness.h"
#include "server/server_metrics.h"

namespace midhurst::server {

struct OperationalRoutes {
  const Readiness* readiness = nullptr;
  ServerMetrics* metrics = nullptr;
  Ingest* ingest = nullptr;
  std::string capability_statement;  // JSON text, as load_capability_statement returns it
};

void add_operational_routes(HttpApp& app, const OperationalRoutes& deps);

// Reads a CapabilityStatement and checks that it is a JSON object with
// "resourceType": "CapabilityStatement"; returns it re-serialised compactly.
Result<std::string, std::string> load_capability_statement(const std::string& path);

}  // namespace midhurst::server
