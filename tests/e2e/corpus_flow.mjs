// The whole corpus end to end: every HL7v2 message of the shared corpus and of examples/ is
// sent to the real gateway over MLLP with an npm MLLP client (node-hl7-client), and each ACK
// is checked against what the command line says of the same message: AA when
// `midhurst hl7 check` finds no error and `midhurst translate` accepts it, otherwise AE or AR
// with an ERR segment (expectations computed here, never listed by hand). Then the stored
// patients are read back: from the SQLite file, and over the FHIR API with an npm FHIR client
// (fhir-kit-client), each ACKed patient found by NHS number (or its first identifier) and read
// by id, for the interactions the CapabilityStatement declares.
//
//   E2E_NPM_DIR=DIR node corpus_flow.mjs MIDHURST_BINARY WORK_DIR CORPUS_DIR
// E2E_NPM_DIR holds node-hl7-client and fhir-kit-client (tests/e2e/with_npm.sh installs them).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  Checks, Gateway, MllpConnection, frame, haveSqliteCli, npmImport, parseAck, repoRoot, sqlite, tempDir, tokens,
} from "./lib/gateway.mjs";

const [bin, work, corpusDir] = process.argv.slice(2);
const npmDir = process.env.E2E_NPM_DIR;
if (!bin || !work || !corpusDir || !npmDir) {
  console.error("usage: E2E_NPM_DIR=DIR node corpus_flow.mjs MIDHURST_BINARY WORK_DIR CORPUS_DIR");
  process.exit(2);
}
const { default: Hl7Client, Message, KNOWN_VERSIONS } = await npmImport(npmDir, "node-hl7-client");
const { Client: FhirClient } = await npmImport(npmDir, "fhir-kit-client");
const checks = new Checks("corpus_flow");
const dir = tempDir(work, "corpus-flow-");
// The gateway's own setting names the profiles directory for the command line too.
const mappings = process.env.MIDHURST_MAPPINGS_DIR ?? path.join(repoRoot, "mappings");

// --- the messages, split as the command line splits files ---

// Bytes are kept as they are (latin1 strings map bytes 1:1): one corpus file declares 8859/1
// and holds UTF-8, and the gateway must see exactly what the file holds.
function splitMessages(file) {
  let s = fs.readFileSync(file).toString("latin1");
  if (s.startsWith("\xef\xbb\xbf")) s = s.slice(3);
  const out = [];
  let current = null;
  for (const seg of s.split(/\r\n|\r|\n/)) {
    if (!seg.length) continue;
    const id = seg.slice(0, 3);
    if (["FHS", "BHS", "BTS", "FTS"].includes(id)) {
      current = null;
      continue;
    }
    if (id === "MSH") {
      current = [];
      out.push(current);
    }
    if (current) current.push(seg);
    else out.push((current = [seg])); // a file that does not start with MSH is one (bad) message
  }
  return out.map((segs) => Buffer.from(segs.join("\r"), "latin1"));
}

const files = [
  ...fs.readdirSync(path.join(corpusDir, "hl7v2")).filter((f) => f.endsWith(".hl7")).sort().map((f) => path.join(corpusDir, "hl7v2", f)),
  ...fs.readdirSync(path.join(repoRoot, "examples")).filter((f) => f.endsWith(".hl7")).sort().map((f) => path.join(repoRoot, "examples", f)),
];
const messages = [];
for (const f of files) splitMessages(f).forEach((bytes, i) => messages.push({ file: path.relative(path.dirname(corpusDir), f), n: i + 1, bytes }));
checks.check(messages.length > 200, `only ${messages.length} messages found under ${corpusDir}`);

// MSH fields as raw text (MSH-1 is the field separator itself).
function mshField(bytes, n) {
  const text = bytes.toString("latin1");
  if (!text.startsWith("MSH") || text.length < 4) return "";
  const fields = text.split("\r")[0].split(text[3]);
  return n === 1 ? text[3] : fields[n - 1] ?? "";
}

// --- expectations, from the command line on the same messages ---

// Messages that start with MSH go to the command line in one file (one process for all; it
// splits them as this test does, which is checked). A fragment without MSH (from a broken
// batch) cannot be told apart from its neighbours in one file, so it goes alone.
// One `hl7 check` over every batch file (a process each costs seconds under ASan on a busy
// machine), then `translate` for each batch with a message hl7 check passed.
function cliVerdicts(batches) {
  const files = batches.map((batch) => {
    const file = path.join(dir, `cli-${batch[0].index}.hl7`);
    fs.writeFileSync(file, Buffer.concat(batch.flatMap((m) => [m.bytes, Buffer.from("\r")])));
    return file;
  });
  const check = spawnSync(bin, ["hl7", "check", ...files], { cwd: repoRoot, encoding: "utf8", maxBuffer: 1 << 26 });
  const errors = new Map(); // file -> message number -> whether hl7 check found an error in it
  for (const line of check.stdout.split("\n")) {
    const file = files.find((f) => line.startsWith(f + ":"));
    if (!file) continue;
    const m = /^: (?:message (\d+) \(line \d+\): )?(\w+)/.exec(line.slice(file.length));
    if (!m || !["OK", "error", "warning"].includes(m[2])) continue;
    const n = Number(m[1] ?? 1);
    if (!errors.has(file)) errors.set(file, new Map());
    errors.get(file).set(n, (errors.get(file).get(n) ?? false) || m[2] === "error");
  }
  batches.forEach((batch, b) => {
    const found = errors.get(files[b]) ?? new Map();
    let reports = [];
    if ([...found.values()].some((e) => !e)) {
      const translate = spawnSync(bin, ["translate", "--mappings", mappings, "--to", "care", "--report", files[b]],
        { cwd: repoRoot, encoding: "utf8", maxBuffer: 1 << 28 });
      try {
        reports = JSON.parse(translate.stdout);
      } catch {
        checks.check(false, `midhurst translate ${files[b]} printed no JSON (exit ${translate.status}): ${translate.stderr.slice(0, 300)}`);
      }
      if (!Array.isArray(reports)) reports = [reports];
      checks.check(reports.length === batch.length, `translate split ${reports.length} messages where this test has ${batch.length}`);
    }
    checks.check(found.size === batch.length, `hl7 check split ${found.size} messages where this test has ${batch.length} (${batch[0].file}...)`);
    batch.forEach((m, k) => {
      m.accepted = !found.get(k + 1) && reports[k]?.accepted === true;
      m.report = reports[k];
    });
  });
}
messages.forEach((m, i) => (m.index = i));
const startsWithMsh = (m) => m.bytes.subarray(0, 3).toString() === "MSH";
cliVerdicts([messages.filter(startsWithMsh), ...messages.filter((m) => !startsWithMsh(m)).map((m) => [m])]);
if (checks.failures.length) checks.finish();

const heldKeys = new Set(); // sender + control id of messages expected to be accepted, in send order
for (const m of messages) {
  m.controlId = mshField(m.bytes, 10);
  const key = `${mshField(m.bytes, 3)}|${mshField(m.bytes, 4)}|${m.controlId}`;
  // A resend of an accepted message (same MSH-3, MSH-4, MSH-10) is a duplicate, ACKed AA.
  m.duplicate = m.controlId !== "" && heldKeys.has(key);
  if (m.accepted && m.controlId !== "") heldKeys.add(key);
  m.expected = m.accepted || m.duplicate ? "AA" : "AE|AR";
  const patient = m.report?.record?.patient;
  m.nhs = patient?.nhsNumber?.value ?? "";
  m.identifier = patient?.identifiers?.[0];
}

// --- sending: the npm client where it can carry the message, plain MLLP otherwise ---

// node-hl7-client parses what it sends and holds one HL7 version per connection; messages it
// cannot carry unchanged (not starting with MSH, bytes that are not UTF-8, an unknown version)
// go over a plain socket with the same framing.
function npmCanCarry(m) {
  const text = m.bytes.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(m.bytes)) return null;
  try {
    const msg = new Message({ text });
    const version = msg.get("MSH.12").toString();
    if (!KNOWN_VERSIONS.includes(version) || msg.toString() !== text) return null;
    return { msg, version };
  } catch {
    return null;
  }
}

// One connection per message: the client keeps state between messages of a connection (it
// holds back a message sent while an ACK is awaited), which is not what is under test here.
async function sendNpm(gateway, msg, version) {
  let resolveAck;
  const reply = new Promise((resolve) => (resolveAck = resolve));
  const client = new Hl7Client({ host: "127.0.0.1", version });
  const conn = client.createConnection({ port: gateway.mllpPort, waitAck: true, maxConnectionAttempts: 5 },
    async (res) => resolveAck(res.getMessage().toString()));
  await conn.sendMessage(msg);
  let timer;
  const ack = await Promise.race([reply, new Promise((resolve) => (timer = setTimeout(() => resolve(null), 15000)))]);
  clearTimeout(timer);
  await conn.close();
  return ack;
}

// Whether an ACK is owed (HL7 table 0155, as gateway/hl7v2/ack.h reads it): always in original
// mode; in enhanced mode (MSH-15 or MSH-16 valued) as MSH-15 asks: NE never, ER only on error,
// SU only on success, anything else always.
function ackDue(m) {
  const accept = mshField(m.bytes, 15).trim().toUpperCase();
  const enhanced = accept !== "" || mshField(m.bytes, 16).trim() !== "";
  if (!enhanced) return true;
  const success = m.expected === "AA";
  return accept === "NE" ? false : accept === "ER" ? !success : accept === "SU" ? success : true;
}

// After a message that is owed no ACK, a probe on the same connection: the gateway answers in
// order, so the next frame must be the probe's (an unsupported message type: AR, stores nothing).
let probes = 0;
const probe = () => {
  probes += 1;
  const id = `E2E-PROBE-${probes}`;
  return { id, text: `MSH|^~\\&|E2E|PROBE|MIDHURST|GATEWAY|20261101000000||ZZZ^Z01|${id}|P|2.4` };
};

const gateway = new Gateway({ bin, dir });
await gateway.start();
let raw = null;
let byNpm = 0;
let noAck = 0;
const tally = {};
for (const m of messages) {
  const due = ackDue(m);
  const carried = due ? npmCanCarry(m) : null;
  if (process.env.E2E_VERBOSE) console.log(`${Date.now() % 100000} sending ${m.file} message ${m.n} ${carried ? "by npm, " + carried.version : "raw"}`);
  let ackText;
  if (carried) {
    byNpm += 1;
    ackText = await sendNpm(gateway, carried.msg, carried.version);
  } else {
    if (!raw || raw.closed) raw = await MllpConnection.open(gateway.mllpPort);
    if (due) ackText = await raw.send(m.bytes).catch(() => null);
    else {
      raw.write(frame(m.bytes));
      const p = probe();
      ackText = await raw.send(p.text).catch(() => null);
      const got = ackText ? parseAck(ackText) : {};
      checks.check(got.control === p.id, `${m.file} message ${m.n}: MSH-15 '${mshField(m.bytes, 15)}' owes no ACK, ` +
        `but the frame after it was ${JSON.stringify(got)}`);
      noAck += 1;
      continue;
    }
  }
  const label = `${m.file} message ${m.n} (MSH-10 '${m.controlId}')`;
  if (!checks.check(ackText, `${label}: no ACK`)) continue;
  const ack = parseAck(ackText.replace(/\n/g, "\r"));
  m.ack = ack.code;
  tally[ack.code] = (tally[ack.code] ?? 0) + 1;
  // Original mode answers AA/AE/AR; a message asking for enhanced mode (MSH-15/16) gets the
  // commit-level CA/CE/CR.
  const ok = m.expected === "AA" ? ["AA", "CA"].includes(ack.code) : ["AE", "AR", "CE", "CR"].includes(ack.code) && ack.err.length > 0;
  checks.check(ok, `${label}: ACK ${ack.code} (${ack.text}), expected ${m.expected}${m.expected === "AA" ? "" : " with ERR"}${m.duplicate ? " (a duplicate)" : ""}`);
  if (m.controlId && ok) checks.check(ack.control === m.controlId, `${label}: MSA-2 '${ack.control}'`);
}
if (raw) await raw.close();
const accepted = messages.filter((m) => m.accepted && !m.duplicate);
console.log(`${messages.length} messages from ${files.length} files (${byNpm} by node-hl7-client, ${messages.length - byNpm} by plain MLLP): ` +
  `ACKs ${JSON.stringify(tally)}, ${noAck} owed none (MSH-15); ${accepted.length} accepted as new, ${messages.filter((m) => m.duplicate).length} duplicates`);
checks.check(byNpm > messages.length / 2, `only ${byNpm} messages went through the npm client`);

// --- reading back: the FHIR API with fhir-kit-client ---

const cs = (await gateway.http("GET", "/metadata")).json;
const patientDecl = (cs?.rest?.[0]?.resource ?? []).find((r) => r.type === "Patient");
const can = (code) => Boolean(patientDecl?.interaction?.some((i) => i.code === code));
const fhir = new FhirClient({ baseUrl: gateway.base, bearerToken: tokens.hospice });
const withNhs = [...new Map(accepted.filter((m) => m.nhs).map((m) => [m.nhs, m])).values()];
const withLocal = [...new Map(accepted.filter((m) => !m.nhs && m.identifier).map((m) => [`${m.identifier.system}|${m.identifier.value}`, m])).values()];
checks.check(withNhs.length >= 1, "no accepted message with an NHS number (examples/ should have some)");
if (can("search-type") && can("read")) {
  const found = async (system, value) => {
    const bundle = await fhir.search({ resourceType: "Patient", searchParams: { identifier: `${system}|${value}` } });
    return (bundle.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === "Patient");
  };
  for (const m of withNhs) {
    try {
      const hits = await found("https://fhir.nhs.uk/Id/nhs-number", m.nhs);
      if (!checks.check(hits.length === 1, `NHS number ${m.nhs} (${m.file}): ${hits.length} patients found`)) continue;
      const read = await fhir.read({ resourceType: "Patient", id: hits[0].id });
      checks.check(read.resourceType === "Patient" && read.id === hits[0].id &&
        (read.identifier ?? []).some((i) => i.system === "https://fhir.nhs.uk/Id/nhs-number" && i.value === m.nhs),
        `Patient/${hits[0].id} read back without NHS number ${m.nhs}`);
    } catch (e) {
      checks.check(false, `NHS number ${m.nhs}: ${e.message} ${JSON.stringify(e.response?.data ?? "").slice(0, 300)}`);
    }
  }
  // A local identifier can be dropped by a later message about the same patient (its version
  // replaces the identifiers): search must find exactly the patients whose current version
  // holds it, as the store file says.
  const holders = new Map();
  const current = haveSqliteCli() ? sqlite(gateway.dbPath, "SELECT c.id, json_extract(v.body, '$.identifiers') AS ids " +
    "FROM entity_current c JOIN entity_version v ON v.seq = c.seq WHERE c.type = 'Patient' AND c.deleted = 0") : [];
  for (const row of current) {
    for (const i of JSON.parse(row.ids ?? "[]")) {
      const key = `${i.system}|${i.value}`;
      if (!holders.has(key)) holders.set(key, new Set());
      holders.get(key).add(row.id);
    }
  }
  let local = 0, superseded = 0;
  for (const m of withLocal) {
    const key = `${m.identifier.system}|${m.identifier.value}`;
    const want = holders.get(key);
    if (!want) {
      superseded += 1;
      continue;
    }
    try {
      const hits = await found(m.identifier.system, m.identifier.value);
      const got = new Set(hits.map((h) => h.id));
      if (checks.check(got.size === want.size && [...want].every((id) => got.has(id)),
        `identifier ${key} (${m.file}): found ${[...got]}, the store has ${[...want]}`)) {
        const read = await fhir.read({ resourceType: "Patient", id: hits[0].id });
        if (checks.check(read.id === hits[0].id, `Patient/${hits[0].id} read back as ${read.id}`)) local += 1;
      }
    } catch (e) {
      checks.check(false, `identifier ${key}: ${e.message}`);
    }
  }
  console.log(`FHIR: ${withNhs.length} patient(s) found by NHS number and read, ${local} by local identifier ` +
    `(${superseded} identifier(s) no longer on any patient's current version)`);
} else {
  console.log("SKIP: FHIR read-back (Patient read and search are not declared in /metadata yet)");
}

// --- and the store file, after a clean stop ---

const code = await gateway.stop();
checks.check(code === 0, `the gateway exited ${code} on SIGTERM`);
if (haveSqliteCli()) {
  const journal = sqlite(gateway.dbPath, "SELECT status, count(*) AS n FROM journal GROUP BY status");
  const count = Object.fromEntries(journal.map((r) => [r.status, r.n]));
  checks.check((count.accepted ?? 0) === accepted.length, `journal: ${count.accepted} accepted, ${accepted.length} expected`);
  checks.check((count.duplicate ?? 0) === messages.filter((m) => m.duplicate).length, `journal: ${count.duplicate ?? 0} duplicates`);
  const stored = new Set(sqlite(gateway.dbPath, "SELECT json_extract(v.body, '$.nhsNumber.value') AS nhs FROM entity_current c " +
    "JOIN entity_version v ON v.seq = c.seq WHERE c.type = 'Patient'").map((r) => r.nhs));
  for (const m of withNhs) checks.check(stored.has(m.nhs), `NHS number ${m.nhs} is not on a stored patient`);
}
if (checks.failures.length) console.log(`gateway log and data: ${dir}`);
else fs.rmSync(dir, { recursive: true, force: true });
checks.finish();
