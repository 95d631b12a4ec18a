#!/bin/sh
# Every ADT and REF message of the shared corpus translates to a FHIR Bundle that validates
# against the FHIR profiles (corpus_translate_check) and against the official R4 JSON schema
# (fhir_schema_check.sh, npm). Non-ADT/REF or invalid messages may fail, with a reason.
# Usage: corpus_translate.sh CHECK_BINARY MAPPINGS_DIR PROFILES_DIR CORPUS_DIR NODE_DIR
set -eu
check=$1 mappings=$2 profiles=$3 corpus=$4 node_dir=$5
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$check" "$mappings" "$profiles" "$corpus/hl7v2" "$out"
sh "$(dirname "$0")/fhir_schema_check.sh" "$node_dir" "$out"
