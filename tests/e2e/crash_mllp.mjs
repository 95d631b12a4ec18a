// Crash safety of the running gateway: thousands of distinct ADT messages over several
// concurrent MLLP connections, the server killed with SIGKILL at random moments mid-stream and
// restarted on the same data directory, everything without an ACK resent (and some that had
// one, to exercise dedup). Then the SQLite file must show that
//   - every message that got AA is journaled as accepted exactly once (by control id), also
//     right after each kill (an ACK is only sent after the commit: durable_ingest.h I1);
//   - no accepted journal row lacks its Patient version and Provenance, and no entity
//     version belongs to anything but an accepted row (nothing half applied);
//   - resends are journaled as duplicate of the accepted row and changed nothing;
//   - there is one Patient per distinct NHS number, with one version per accepted message.
//
//   node crash_mllp.mjs MIDHURST_BINARY WORK_DIR
// Environment: CRASH_MESSAGES (default 2000), CRASH_KILLS (default 6), CRASH_CONNECTIONS
// (default 4), CRASH_SEED (default: random; printed, so a failing run can be repeated),
// CRASH_TRANSPORT (mllp, the default, or http: the same over POST /hl7v2).
import fs from "node:fs";
import {
  Checks, Gateway, MllpConnection, adtMessage, birthDateFor, haveSqliteCli, nhsNumbers, parseAck, sqlite, tempDir, tokens,
} from "./lib/gateway.mjs";

const [bin, work] = process.argv.slice(2);
if (!bin || !work) {
  console.error("usage: node crash_mllp.mjs MIDHURST_BINARY WORK_DIR");
  process.exit(2);
}
if (!haveSqliteCli()) {
  console.log("skipped: the sqlite3 command-line shell is not installed (scripts/setup.sh installs it)");
  process.exit(77);
}

const total = Number(process.env.CRASH_MESSAGES ?? 2000);
const kills = Number(process.env.CRASH_KILLS ?? 6);
const connections = Number(process.env.CRASH_CONNECTIONS ?? 4);
const inFlight = 8; // per connection: the gateway's default mllp.max_in_flight
const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const transport = process.env.CRASH_TRANSPORT ?? "mllp";
if (!["mllp", "http"].includes(transport)) {
  console.error("CRASH_TRANSPORT is mllp or http");
  process.exit(2);
}
console.log(`crash (${transport}): ${total} messages, ${kills} kills, ${connections} connections, seed ${seed}`);

// A small seeded generator (mulberry32), so that CRASH_SEED replays a run's choices.
let state = seed >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const randomInt = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

// The messages: the first 70% admit distinct patients (A01), the rest update a random one of
// them (A08), so some patients get several versions. The control ids carry the seed, so that
// no two runs share one.
const patients = Math.max(1, Math.floor(total * 0.7));
const nhs = nhsNumbers(patients, 900000000 + (seed % 50000000));
const messages = [];
for (let i = 0; i < total; i++) {
  const p = i < patients ? i : randomInt(0, patients - 1);
  const controlId = `C${seed.toString(36)}-${i}`;
  messages.push({
    controlId, patient: p,
    text: adtMessage({
      controlId, nhs: nhs[p], event: i < patients ? "A01" : "A08", family: `CRASH${p}`, given: `V${i}`,
      birth: birthDateFor(p), localId: `L${p}`,
    }),
  });
}

const checks = new Checks(`crash_${transport}`);
const acked = new Map(); // message index -> the first ACK code
const sends = new Array(total).fill(0);
const gateway = new Gateway({ bin, dir: tempDir(work, `crash-${transport}-`) });

// One round: start (or restart) the gateway, send `queue` over `connections` connections, and
// kill the gateway once `killAfter` ACKs of this round have arrived (never, when null).
async function round(queue, killAfter) {
  await gateway.start();
  let next = 0;
  let ackedThisRound = 0;
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    gateway.proc.kill("SIGKILL");
  };
  // POST /hl7v2 instead of MLLP: `inFlight` requests at a time per worker, the ACK in the body.
  const httpWorker = async () => {
    const waiting = [];
    while (next < queue.length && !killed) {
      const i = queue[next++];
      sends[i] += 1;
      const reply = fetch(`${gateway.base}/hl7v2`, {
        method: "POST", body: messages[i].text,
        headers: { authorization: `Bearer ${tokens.ingest}`, "content-type": "x-application/hl7-v2+er7" },
      }).then(async (res) => {
        const text = await res.text();
        if (!checks.check(res.status === 200, `${messages[i].controlId}: POST /hl7v2 answered ${res.status} ${text.slice(0, 200)}`)) return;
        onAck(i, text);
      }, (e) => {
        if (!killed) checks.check(false, `${messages[i].controlId}: POST /hl7v2 failed before any kill: ${e.message}`);
      });
      waiting.push(reply);
      if (waiting.length >= inFlight) await waiting.shift();
    }
    await Promise.all(waiting);
  };
  const onAck = (i, text) => {
    const ack = parseAck(text);
    checks.check(ack.control === messages[i].controlId, `${messages[i].controlId}: ACK MSA-2 is '${ack.control}'`);
    checks.check(ack.code === "AA", `${messages[i].controlId}: ACK ${ack.code} ${ack.text} ${ack.err.join(" ")}`);
    if (!acked.has(i)) acked.set(i, ack.code);
    ackedThisRound += 1;
    if (killAfter !== null && ackedThisRound >= killAfter) kill();
  };
  const worker = async () => {
    if (transport === "http") return httpWorker();
    let conn;
    try {
      conn = await MllpConnection.open(gateway.mllpPort);
    } catch (e) {
      if (!killed) checks.check(false, `round ${gateway.runs}: cannot connect: ${e.message}`);
      return;
    }
    const waiting = [];
    while (next < queue.length && !conn.closed) {
      const i = queue[next++];
      sends[i] += 1;
      const reply = conn.send(messages[i].text).then((text) => onAck(i, text), () => {});
      waiting.push(reply);
      if (waiting.length >= inFlight) await waiting.shift();
    }
    await Promise.all(waiting);
    if (!conn.closed) await conn.close();
    else if (!killed) checks.check(false, `round ${gateway.runs}: the gateway closed a connection: ${conn.closeReason?.message}`);
  };
  await Promise.all(Array.from({ length: connections }, worker));
  if (killed) await gateway.kill();
  return killed;
}

// After a kill, before the restart: every message ACKed so far must already be committed.
function checkAckedAreDurable(afterKill) {
  const rows = sqlite(gateway.dbPath, "SELECT control_id FROM journal WHERE status='accepted'");
  const stored = new Set(rows.map((r) => r.control_id));
  let missing = 0;
  for (const i of acked.keys()) if (!stored.has(messages[i].controlId)) missing += 1;
  checks.check(missing === 0, `after kill ${afterKill}: ${missing} ACKed message(s) are not in the journal as accepted`);
  // Committed but killed before its ACK went out: the sender resends it and it becomes a duplicate.
  console.log(`  ${stored.size - (acked.size - missing)} message(s) committed without an ACK at this kill`);
  const ic = sqlite(gateway.dbPath, "PRAGMA quick_check");
  checks.check(ic.length === 1 && ic[0].quick_check === "ok", `after kill ${afterKill}: quick_check ${JSON.stringify(ic)}`);
}

const started = Date.now();
let done = 0;
for (let r = 0; ; r++) {
  const unacked = [];
  for (let i = 0; i < total; i++) if (!acked.has(i)) unacked.push(i);
  if (unacked.length === 0) break;
  // Some messages that already have their ACK go again: they must be ACKed AA as duplicates.
  const resend = [];
  const ackedList = [...acked.keys()];
  for (let k = 0; k < Math.min(25, ackedList.length); k++) resend.push(ackedList[randomInt(0, ackedList.length - 1)]);
  const queue = [...unacked];
  for (const i of resend) queue.splice(randomInt(0, queue.length), 0, i);
  // A kill somewhere within the first half of the round's ACKs; the last round runs to the end.
  const killAfter = done < kills ? randomInt(Math.max(1, Math.floor(queue.length * 0.05)), Math.floor(queue.length * 0.5)) : null;
  const killed = await round(queue, killAfter);
  if (killed) {
    done += 1;
    console.log(`kill ${done}: after ${killAfter} ACKs of round ${r + 1} (${acked.size}/${total} ACKed so far)`);
    checkAckedAreDurable(done);
  }
  if (r > kills + 20) {
    checks.check(false, `still ${unacked.length} message(s) without an ACK after ${r} rounds`);
    break;
  }
}
checks.check(done >= Math.min(kills, 5) || kills < 5, `only ${done} kills happened`);
checks.check(acked.size === total, `${acked.size} of ${total} messages ACKed`);

// Read back over FHIR, while the last run is up: a sample of the patients, each found once by
// NHS number (when the CapabilityStatement declares Patient search).
const cs = (await gateway.http("GET", "/metadata")).json;
const searchable = (cs?.rest?.[0]?.resource ?? []).some((r) => r.type === "Patient" && r.interaction?.some((i) => i.code === "search-type"));
const foundIds = new Map(); // NHS number -> the id the API gave
if (searchable) {
  for (let k = 0; k < Math.min(patients, 60); k++) {
    const n = nhs[randomInt(0, patients - 1)];
    const r = await gateway.http("GET", `/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${n}`, { token: tokens.hospice });
    const entries = (r.json?.entry ?? []).filter((e) => e.resource?.resourceType === "Patient");
    if (checks.check(r.status === 200 && entries.length === 1, `Patient search for ${n}: ${r.status}, ${entries.length} patients`))
      foundIds.set(n, entries[0].resource.id);
  }
} else console.log("SKIP: FHIR read-back (Patient search is not declared in /metadata)");

// A clean stop, then the store as the last run left it.
const code = await gateway.stop();
checks.check(code === 0, `the gateway exited ${code} on SIGTERM`);
console.log(`${gateway.runs} runs, ${sends.reduce((a, b) => a + b, 0)} sends, ${((Date.now() - started) / 1000).toFixed(1)} s`);

const db = gateway.dbPath;
const journal = sqlite(db, "SELECT seq, control_id, status, duplicate_of FROM journal");
const versions = sqlite(db,
  "SELECT seq, type, id, version, journal_seq, provenance_id, json_extract(body,'$.nhsNumber.value') AS nhs, " +
  "json_extract(body,'$.messageId') AS message_id, json_extract(body,'$.journalId') AS journal_id FROM entity_version");
const current = sqlite(db, "SELECT type, id, version FROM entity_current");
const ic = sqlite(db, "PRAGMA integrity_check");
checks.check(ic.length === 1 && ic[0].integrity_check === "ok", `integrity_check: ${JSON.stringify(ic)}`);

const byControl = new Map();
for (const row of journal) {
  if (!byControl.has(row.control_id)) byControl.set(row.control_id, []);
  byControl.get(row.control_id).push(row);
}
const bySeq = new Map(journal.map((r) => [r.seq, r]));
const versionsOf = new Map();
for (const v of versions) {
  if (!versionsOf.has(v.journal_seq)) versionsOf.set(v.journal_seq, []);
  versionsOf.get(v.journal_seq).push(v);
}

// Journaled exactly once per message; resends are duplicates pointing at the accepted row.
let bad = 0;
for (let i = 0; i < total; i++) {
  const m = messages[i];
  const rows = byControl.get(m.controlId) ?? [];
  const accepted = rows.filter((r) => r.status === "accepted");
  const ok = accepted.length === 1 &&
    rows.every((r) => r.status === "accepted" || (r.status === "duplicate" && r.duplicate_of === accepted[0].seq)) &&
    rows.length <= sends[i];
  if (!ok && bad++ < 10) checks.check(false, `${m.controlId}: journal rows ${JSON.stringify(rows)} for ${sends[i]} send(s)`);
}
checks.check(bad === 0, `${bad} message(s) not journaled exactly once as accepted`);
checks.check(journal.length === byControl.size + journal.filter((r) => r.status === "duplicate").length,
  "every journal row beyond the first of a control id is a duplicate");
checks.check(byControl.size === total, `${byControl.size} control ids journaled, ${total} sent`);
const resent = sends.filter((n) => n > 1).length;
const duplicates = journal.filter((r) => r.status === "duplicate").length;
if (resent > 0) checks.check(duplicates > 0, `no duplicate rows although ${resent} message(s) were sent more than once`);

// Nothing half applied: each accepted row has one Provenance naming it and one Patient version,
// every version citing that Provenance; duplicates and anything else have no entity versions.
bad = 0;
for (const row of journal) {
  const vs = versionsOf.get(row.seq) ?? [];
  let ok;
  if (row.status === "accepted") {
    const prov = vs.filter((v) => v.type === "Provenance");
    const pat = vs.filter((v) => v.type === "Patient");
    // Other entities the profiles produce (an Encounter from PV1, say) must cite it too.
    ok = prov.length === 1 && pat.length === 1 && vs.every((v) => v.type === "Provenance" || v.provenance_id === prov[0].id) &&
      prov[0].message_id === row.control_id && String(prov[0].journal_id) === String(row.seq);
  } else {
    ok = vs.length === 0;
  }
  if (!ok && bad++ < 10) checks.check(false, `journal ${row.seq} (${row.status} ${row.control_id}): entity versions ${JSON.stringify(vs)}`);
}
checks.check(bad === 0, `${bad} journal row(s) with missing or extra entity versions`);
const orphans = versions.filter((v) => bySeq.get(v.journal_seq)?.status !== "accepted");
checks.check(orphans.length === 0, `${orphans.length} entity version(s) without an accepted journal row`);

// One Patient per distinct NHS number, with as many versions as accepted messages about it.
const patientVersions = versions.filter((v) => v.type === "Patient");
const idsByNhs = new Map();
for (const v of patientVersions) {
  if (!idsByNhs.has(v.nhs)) idsByNhs.set(v.nhs, new Set());
  idsByNhs.get(v.nhs).add(v.id);
}
const currentPatients = current.filter((c) => c.type === "Patient");
checks.check(currentPatients.length === patients, `${currentPatients.length} patients stored, ${patients} distinct patients ACKed`);
checks.check(idsByNhs.size === patients, `${idsByNhs.size} distinct NHS numbers stored, ${patients} sent`);
const split = [...idsByNhs.entries()].filter(([, ids]) => ids.size !== 1);
checks.check(split.length === 0, `${split.length} NHS number(s) stored as more than one patient: ${JSON.stringify(split.slice(0, 3).map(([n, ids]) => [n, [...ids]]))}`);
const expectedVersions = new Map();
for (const m of messages) expectedVersions.set(nhs[m.patient], (expectedVersions.get(nhs[m.patient]) ?? 0) + 1);
const currentVersion = new Map(currentPatients.map((c) => [c.id, c.version]));
bad = 0;
for (const [n, ids] of idsByNhs) {
  const id = [...ids][0];
  if (currentVersion.get(id) !== expectedVersions.get(n) && bad++ < 10)
    checks.check(false, `patient ${n}: version ${currentVersion.get(id)}, expected ${expectedVersions.get(n)}`);
}
checks.check(bad === 0, `${bad} patient(s) whose version count differs from their accepted messages`);
for (const [n, id] of foundIds) checks.check(idsByNhs.get(n)?.has(id), `the API found ${n} as Patient/${id}, the store has ${[...(idsByNhs.get(n) ?? [])]}`);

console.log(`journal: ${journal.length} rows (${duplicates} duplicates), ${patientVersions.length} patient versions, ${currentPatients.length} patients`);
if (!checks.failures.length) fs.rmSync(gateway.dir, { recursive: true, force: true });
else console.log(`kept ${gateway.dir} for inspection`);
checks.finish();
