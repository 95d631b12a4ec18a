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
# same_encounter A B V2 NAME: the encounter of care record A survives V2 (the HL7v2 written from
# it) and B (V2 read back). A visit cancelled or entered in error goes out as ADT^A31, without it
# (an A08 would say it is current). Any other goes out as ADT^A08 and comes back equal when A came
# from an A08 (its Provenance's message type); after another event, equal in the state an A08
# restates. The event's own facts are left out: its statusHistory entry and leave of absence, the
# locations before the current one and the current one's status and period, and a state an A08
# cannot state (onleave): the reader takes these from the event type, and an A08 records no event.
same_encounter() {
  node -e '
    const fs = require("fs");
    const [a, b] = process.argv.slice(1, 3).map((f) => JSON.parse(fs.readFileSync(f)));
    const msh = fs.readFileSync(process.argv[3], "utf8").split(/\r?\n|\r/)[0].split("|");
    const event = ((a.provenance || {}).messageType || "").split("^")[1];
    let A = a.encounter, B = b.encounter;
    if (["cancelled", "entered-in-error"].includes(A.status)) {
      if (msh[8] !== "ADT^A31^ADT_A05" || B) { console.log(`a ${A.status} visit went out as ${msh[8]}`); process.exit(1); }
      process.exit(0);
    }
    if (msh[8] !== "ADT^A08^ADT_A01") { console.log(`a record in a visit went out as ${msh[8]}`); process.exit(1); }
    const state = (e) => {
      if (!e || event === "A08") return e;
      const s = { ...e };
      delete s.statusHistory; delete s.leaveOfAbsence;
      if (A.status === "onleave") delete s.status;
      if (s.locations) { const { status, period, ...last } = s.locations[s.locations.length - 1]; s.locations = [last]; }
      return s;
    };
    [A, B] = [state(A), state(B)];
    const norm = (v) => JSON.stringify(v, (k, x) => x && typeof x === "object" && !Array.isArray(x)
        ? Object.fromEntries(Object.keys(x).sort().map((n) => [n, x[n]])) : x, 2);
    if (norm(A) !== norm(B)) {
      console.log(`encounter differs:\n--- first\n${norm(A)}\n--- after the round trip\n${norm(B)}`);
      process.exit(1);
    }' "$1" "$2" "$3" >"$out" 2>&1 || fail "$4: the round trip changed the encounter"
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
    expect_output 'ADT^A08^ADT_A01|RYJ0000000002|P|2.4'  # the patient is in a visit
    expect_output 'PV1|1|I|RYJ01^WARD 7^BED 4^RYJ01|21||||||300||||19|||||2139^^^RYJ^VN'
    expect_output 'PID|1||9449305552^^^NHS^NH~633^^^RYJ^MR||JONES^MARGARET^ANN^^MRS^^L||19420317|F|'
    expect_output 'OBX|2|CE|PPD1^Preferred place of death^MIDHURST-EOL||21^Patient'"'"'s own home^NHSDD-DLT||||||F|||20261103'
    expect_output 'Would like her cat with her \T\ music playing'
    expect_status 0 "$bin" translate --to hl7v2 --profile care-adt-a31 examples/adt_a08_eol_preferences.hl7
    expect_output 'ADT^A31^ADT_A05|RYJ0000000002|P|2.4'
    expect_output 'PV1|1|N'
    expect_status 0 "$bin" translate --to hl7v2 examples/ref_i12_palliative_referral.hl7
    expect_output 'REF^I12^REF_I12'
    expect_output 'PRD|RT||||||RV3^CENTRAL AND NORTH WEST LONDON NHS FOUNDATION TRUST'
    expect_output 'NTE|1||Rapidly declining'
    expect_status 0 "$bin" translate --to hl7v2 mappings/fhir-care/fixtures/hospice-referral-bundle.fhir-in.json
    expect_output 'RF1|A|U'
    # REF_I12 has no PD1: the registered GP practice goes as a PRD with role PP.
    expect_output 'PRD|PP||||||H81001^ODS'
    grep -q '^PD1|' "$out" && fail "REF^I12 written with a PD1"
    # An Encounter written in FHIR reaches a v2-only system as an A08 with its PV1.
    expect_status 0 "$bin" translate --to hl7v2 mappings/fhir-care/fixtures/hospital-stay-bundle.fhir-in.json
    expect_output 'ADT^A08^ADT_A01'
    expect_output '|ADM-5521^^^NH1234^VN|'
    "$bin" translate --to hl7v2 examples/adt_a08_eol_preferences.hl7 >"$out.v2" 2>/dev/null
    expect_status 0 "$bin" hl7 check "$out.v2"
    rm -f "$out.v2"
    ;;
  translate_fhir_sender)
    # A FHIR input's sender: its own Provenance's agent, else the caller's --sender/--sender-ods;
    # care→fhir writes it as the Provenance agent, which reads back without the flags.
    f=mappings/fhir-care/fixtures/prognosis-awareness-provenance.fhir-in.json
    expect_status 0 "$bin" translate --to care --sender OTHER --sender-ods X99 "$f"
    expect_output '"application": "HOSPICE-EPR"'
    expect_output '"organizationOds": "RYJ"'
    f=mappings/fhir-care/fixtures/hospice-referral-bundle.fhir-in.json
    expect_status 0 "$bin" translate --to care "$f"
    node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1]));
      process.exit(Object.keys(r.provenance.sender).length ? 1 : 0)' "$out" ||
      fail "a FHIR input without a Provenance got a sender from nowhere"
    expect_status 0 "$bin" translate --to fhir --sender HOSPICE-EPR --sender-ods RYJ "$f"
    cp "$out" "$out.fhir"
    expect_status 0 "$bin" translate --to care "$out.fhir"
    rm -f "$out.fhir"
    expect_output '"application": "HOSPICE-EPR"'
    expect_output '"organizationOds": "RYJ"'
    expect_status 2 "$bin" translate --to care --sender-ods 'R Y J' "$f"
    expect_output "bad argument '--sender-ods'"
    ;;
  round_trip_v2)
    # v2 -> care and v2 -> care -> v2 -> care give the same patient, end-of-life plan, referral,
    # next of kin and encounter (same_encounter says what an A08 cannot carry).
    done_count=0
    encounters=0
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
      same_record "$out.a" "$out.b" "$f" patient eol referral relatedPerson
      # A record in a visit goes out as ADT^A08 (REF^I12 for a referral: its visit is a reference).
      if grep -q '"encounter"' "$out.a" && ! grep -q '^RF1|' "$out.v2"; then
        encounters=$((encounters + 1))
        same_encounter "$out.a" "$out.b" "$out.v2" "$f"
      fi
    done
    rm -f "$out.a" "$out.b" "$out.v2"
    [ "$done_count" -ge 5 ] || fail "only $done_count HL7v2 round trip(s) ran"
    [ "$encounters" -ge 8 ] || fail "only $encounters HL7v2 round trip(s) with an encounter ran"
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
      same_record "$out.a" "$out.b" "$f" patient eol referral encounter relatedPerson careTeamMember \
        organization practitioner practitionerRole
    done
    rm -f "$out.a" "$out.b" "$out.fhir"
    [ "$done_count" -ge 4 ] || fail "only $done_count FHIR round trip(s) ran"
    ;;
  round_trip_v2_fhir)
    # HL7v2 -> care -> FHIR -> care: the Bundle `translate` writes for every hl7v2-care fixture maps
    # back without errors, with every entity it came from (mapping_test compares them field by field).
    done_count=0
    for f in mappings/hl7v2-care/fixtures/*.hl7; do
      "$bin" translate --to care "$f" >"$out.a" 2>"$out"
      status=$?
      [ "$status" -eq 1 ] && continue  # a rejected input has no round trip
      [ "$status" -eq 0 ] || fail "$f: exit status $status"
      done_count=$((done_count + 1))
      "$bin" translate --to fhir "$f" >"$out.fhir" 2>"$out" || fail "$f: care -> FHIR failed"
      "$bin" translate --to care "$out.fhir" >"$out.b" 2>"$out" || fail "$f: the FHIR written does not translate back"
      node -e '
        const fs = require("fs");
        const [a, b] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f)));
        for (const k of ["patient", "encounter", "referral", "eol", "relatedPerson", "careTeamMember"])
          if (a[k] && !b[k]) { console.log(`${k} lost in the round trip`); process.exit(1); }' "$out.a" "$out.b" \
        >"$out" 2>&1 || fail "$f: an entity did not come back"
    done
    rm -f "$out.a" "$out.b" "$out.fhir"
    [ "$done_count" -ge 10 ] || fail "only $done_count HL7v2 -> FHIR round trip(s) ran"
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
