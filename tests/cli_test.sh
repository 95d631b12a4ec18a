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
    expect_status 2 "$bin" translate --to hl7v2 examples/adt_a01_admit.hl7
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
