#!/usr/bin/env bash
# One case of the command-line tests: cli_test.sh MIDHURST_BINARY CASE.
# Runs the real binary on real files and checks its exit status and output.
set -u
bin=$1
case_name=$2
corpus=${MIDHURST_CORPUS_DIR:?MIDHURST_CORPUS_DIR must name the shared corpus}/hl7v2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

fail() { echo "FAIL ($case_name): $*"; echo "--- output:"; cat "$out"; exit 1; }
# expect_status N COMMAND...: runs COMMAND, output to $out, and checks its exit status.
expect_status() {
  local want=$1; shift
  "$@" >"$out" 2>&1
  local got=$?
  [ "$got" -eq "$want" ] || fail "exit status $got, expected $want: $*"
}
expect_output() { grep -qF -- "$1" "$out" || fail "output lacks: $1"; }
# same_record A B NAME ENTITY...: the care records in files A and B hold equal ENTITY values
# (compared as JSON values; an entity absent from both is equal).
same_record() {
  local a=$1 b=$2 name=$3; shift 3
  node -e '
    const fs = require("fs");
    const [a, b, ...keys] = process.argv.slice(1);
    const A = JSON.parse(fs.readFileSync(a)), B = JSON.parse(fs.readFileSync(b));
    const norm = (v) => JSON.stringify(v, (k, x) => x && typeof x === "object" && !Array.isArray(x)
        ? Object.fromEntries(Object.keys(x).sort().map((n) => [n, x[n]])) : x, 2);
    for (const k of keys) {
      if (norm(A[k]) !== norm(B[k])) {
        console.log(`${k} differs:\n--- first\n${norm(A[k])}\n--- after the round trip\n${norm(B[k])}`);
        process.exit(1);
      }
    }' "$a" "$b" "$@" >"$out" 2>&1 || fail "$name: the round trip changed the record"
}

case "$case_name" in
  help)
    expect_status 0 "$bin" --help
    expect_output "hl7 check FILE..."
    expect_status 0 "$bin" hl7 check --help
    expect_output "exit status: 0 every message is valid"
    expect_status 0 "$bin" hl7 show --help
    expect_output "usage: midhurst hl7 show"
    ;;
  check_examples)
    expect_status 0 "$bin" hl7 check examples/*.hl7
    expect_output "examples/adt_a01_admit.hl7: message 1 (line 1): OK ADT^A01^ADT_A01 RYJ0000000001"
    expect_output "4 message(s) checked, 0 with errors"
    ;;
  check_malformed)
    expect_status 1 "$bin" hl7 check "$corpus/msfc__ADT-A01-01.hl7" "$corpus/hapi__messages_04.hl7"
    expect_output "msfc__ADT-A01-01.hl7: message 1 (line 1): OK"
    expect_output 'hapi__messages_04.hl7: message 1 (line 1): error 102 (Data type error) at MSH-2 (segment 1): MSH-2 must hold 4 encoding characters'
    expect_output "2 message(s) checked, 1 with errors"
    ;;
  check_batch)
    expect_status 0 "$bin" hl7 check "$corpus/pyhl7__sample_file1.hl7"
    expect_output "message 3 (line 17): OK"
    expect_status 1 "$bin" hl7 check "$corpus/pyhl7__sample_bad_file1.hl7"
    expect_output "error 100 (Segment sequence error) at BHS[2] (segment 5)"
    ;;
  check_stdin)
    printf 'MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X1|P|2.4\nPID|1||9449305552^^^NHS^NH||SMITH^ANN\n' >"$out.in"
    expect_status 0 "$bin" hl7 check - <"$out.in"
    expect_output "-: message 1 (line 1): OK ADT^A01 X1"
    printf 'MSH|^~\\&|A|B|C|D|20260101||ADT^A01||P|2.4\rPID|1\r' >"$out.in"
    expect_status 1 "$bin" hl7 check - <"$out.in"
    expect_output "at MSH-10 (segment 1)"
    rm -f "$out.in"
    ;;
  show_paths)
    expect_status 0 "$bin" hl7 show examples/adt_a01_admit.hl7
    expect_output '"PID-3[2].4": "RYJ"'
    expect_output '"PID-5.2": "MARGARET"'
    expect_output '"MSH-2": "^~\\&"'
    expect_output '"PD1-3.3": "E87024"'
    ;;
  show_escapes)
    expect_status 0 "$bin" hl7 show examples/adt_a08_eol_preferences.hl7 "$corpus/nodehl7client__parser_test_2.hl7"
    expect_output '"OBX[4]-5": "Would like her cat with her & music playing"'
    expect_output 'Testpatiënt'
    expect_output "MSH-18 declares 8859/1 but the bytes are valid UTF-8"
    ;;
  bad_usage)
    expect_status 2 "$bin"
    expect_status 2 "$bin" hl7 check
    expect_status 2 "$bin" hl7 check --frobnicate x
    expect_status 2 "$bin" nosuchcommand
    expect_status 1 "$bin" hl7 check does-not-exist.hl7
    expect_output "does-not-exist.hl7: cannot open file"
    ;;
  translate_care)
    expect_status 0 "$bin" translate --to care examples/adt_a01_admit.hl7
    expect_output '"value": "9449305552"'
    expect_output '"family": "JONES"'
    expect_status 0 "$bin" translate --to care --report examples/adt_a01_admit.hl7
    expect_output '"ledger"'
    expect_output '"accepted": true'
    ;;
  translate_fhir)
    expect_status 0 "$bin" translate examples/adt_a01_admit.hl7
    expect_output '"resourceType": "Bundle"'
    expect_output '"type": "transaction"'
    expect_output '"url": "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552"'
    expect_output '"ifNoneExist": "identifier=https://fhir.nhs.uk/Id/ods-organization-code|E87024"'
    expect_output '"reference": "Practitioner?identifier=https://fhir.hl7.org.uk/Id/gmp-number|G8133438"'
    ;;
  translate_rejects)
    expect_status 1 "$bin" translate mappings/hl7v2-care/fixtures/a31-invalid-nhs-number.hl7
    expect_output '"resourceType":"OperationOutcome"'
    expect_output 'fails the Modulus 11 check'
    expect_output '"location":["PID-3.1"]'
    expect_status 2 "$bin" translate --to xml examples/adt_a01_admit.hl7
    expect_status 2 "$bin" translate --to care --format xml examples/adt_a01_admit.hl7
    ;;
  translate_fhir_input)
    bundle=mappings/fhir-care/fixtures/hospice-referral-bundle.fhir-in.json
    expect_status 0 "$bin" translate --to care "$bundle"
    expect_output '"value": "9449305552"'
    expect_output '"practiceOds": "H81001"'
    expect_output '"gpGmp": "G8123456"'
    expect_output '"decision": "dnacpr"'
    expect_output '"authoredOn": "2026-11-01T09:15:00+00:00"'
    expect_status 0 "$bin" translate --to care --report "$bundle"
    expect_output '"Bundle.entry[0].resource.birthDate": ['
    expect_output '"Bundle.entry[0].resource.maritalStatus.coding[0].code"'
    expect_status 0 "$bin" translate "$bundle"
    expect_output '"url": "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552"'
    ;;
  translate_fhir_xml)
    xml=$(mktemp --suffix=.xml)
    "$bin" translate --format xml mappings/fhir-care/fixtures/hospice-referral-bundle.fhir-in.json >"$xml" 2>/dev/null ||
      fail "FHIR JSON to FHIR XML failed"
    grep -q '<Bundle xmlns="http://hl7.org/fhir">' "$xml" || { cp "$xml" "$out"; fail "no FHIR XML Bundle"; }
    expect_status 0 "$bin" translate --to care "$xml"
    expect_output '"value": "9449305552"'
    expect_output '"family": "O'"'"'Brien"'
    rm -f "$xml"
    expect_status 1 "$bin" translate --format xml mappings/fhir-care/fixtures/bad-nhs-number.fhir-in.json
    expect_output '<OperationOutcome xmlns="http://hl7.org/fhir">'
    ;;
  translate_fhir_rejects)
    expect_status 1 "$bin" translate --to care mappings/fhir-care/fixtures/bad-nhs-number.fhir-in.json
    expect_output '"resourceType":"OperationOutcome"'
    expect_output 'Modulus 11'
    expect_output '"location":["Patient.identifier[0].value"]'
    printf '{"resourceType": "Patient", ' >"$out.in"
    expect_status 1 "$bin" translate --to care "$out.in"
    expect_output 'not valid JSON'
    rm -f "$out.in"
    ;;
  translate_hl7v2)
    expect_status 0 "$bin" translate --to hl7v2 examples/adt_a08_eol_preferences.hl7
    expect_output 'ADT^A31^ADT_A05|RYJ0000000002|P|2.4'
    expect_output 'PID|1||9449305552^^^NHS^NH~633^^^RYJ^MR||JONES^MARGARET^ANN^^MRS^^L||19420317|F|'
    expect_output 'OBX|2|CE|PPD1^Preferred place of death^MIDHURST-EOL||21^Patient'"'"'s own home^NHSDD-DLT||||||F|||20261103'
    expect_output 'Would like her cat with her \T\ music playing'
    expect_status 0 "$bin" translate --to hl7v2 examples/ref_i12_palliative_referral.hl7
    expect_output 'REF^I12^REF_I12'
    expect_output 'PRD|RT||||||RV3^CENTRAL AND NORTH WEST LONDON NHS FOUNDATION TRUST'
    expect_output 'NTE|1||Rapidly declining'
    expect_status 0 "$bin" translate --to hl7v2 mappings/fhir-care/fixtures/hospice-referral-bundle.fhir-in.json
    expect_output 'RF1|A|U'
    "$bin" translate --to hl7v2 examples/adt_a08_eol_preferences.hl7 >"$out.v2" 2>/dev/null
    expect_status 0 "$bin" hl7 check "$out.v2"
    rm -f "$out.v2"
    ;;
  round_trip_v2)
    # v2 -> care and v2 -> care -> v2 -> care give the same patient, end-of-life plan and referral.
    done_count=0
    for f in examples/*.hl7 mappings/hl7v2-care/fixtures/*.hl7; do
      # A merge (A40) is an event, not a state: ADT^A31 and REF^I12 have no MRG to write it back.
      case "$f" in *a40-*) continue ;; esac
      "$bin" translate --to care "$f" >"$out.a" 2>"$out"
      status=$?
      [ "$status" -eq 1 ] && continue  # a rejected input has no round trip
      [ "$status" -eq 0 ] || fail "$f: exit status $status"
      done_count=$((done_count + 1))
      "$bin" translate --to hl7v2 "$f" >"$out.v2" 2>"$out" || fail "$f: care -> hl7v2 failed"
      "$bin" translate --to care "$out.v2" >"$out.b" 2>"$out" || fail "$f: the HL7v2 written does not translate back"
      same_record "$out.a" "$out.b" "$f" patient eol referral
    done
    rm -f "$out.a" "$out.b" "$out.v2"
    [ "$done_count" -ge 5 ] || fail "only $done_count HL7v2 round trip(s) ran"
    ;;
  round_trip_fhir)
    # FHIR -> care and FHIR -> care -> FHIR -> care give the same records.
    done_count=0
    for f in mappings/fhir-care/fixtures/*.fhir-in.json; do
      "$bin" translate --to care "$f" >"$out.a" 2>"$out"
      status=$?
      [ "$status" -eq 1 ] && continue  # a rejected input has no round trip
      [ "$status" -eq 0 ] || fail "$f: exit status $status"
      done_count=$((done_count + 1))
      "$bin" translate --to fhir "$f" >"$out.fhir" 2>"$out" || fail "$f: care -> FHIR failed"
      "$bin" translate --to care "$out.fhir" >"$out.b" 2>"$out" || fail "$f: the FHIR written does not translate back"
      same_record "$out.a" "$out.b" "$f" patient eol referral
    done
    rm -f "$out.a" "$out.b" "$out.fhir"
    [ "$done_count" -ge 2 ] || fail "only $done_count FHIR round trip(s) ran"
    ;;
  profile_test)
    expect_status 0 "$bin" profile test
    expect_output "PASS hl7v2-care/fixtures/itk-a01-admit.hl7"
    expect_output "fixture(s) passed"
    ;;
  profile_bad_set)
    bad=$(mktemp -d)
    mkdir -p "$bad/concepts"
    printf '{\n  "name": "broken",\n  "version": "1",\n  "direction": "hl7v2->care",\n  "rules": [{"id": "x", "source": "PID-5", "target": "patient.nosuchfield"}]\n}\n' >"$bad/broken.json"
    expect_status 2 "$bin" profile test --mappings "$bad"
    expect_output "broken.json:5:"
    rm -rf "$bad"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "ok ($case_name)"
