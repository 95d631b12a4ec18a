// Bad input and abuse against the real gateway, with small limits (abuse-config.json): oversize
// MLLP frames, garbage, slow and silent senders, half-closed connections, too many
// connections, malformed and oversize HTTP, unknown types, bad search parameters, missing
// tokens and scopes. After every case a well-behaved MLLP client and a well-behaved HTTP client,
// in parallel, must still be served, and at the end the gateway must stop cleanly on SIGTERM
// (under ASan that includes the leak check).
//
//   node abuse.mjs MIDHURST_BINARY WORK_DIR
import fs from "node:fs";
import path from "node:path";
import {
  Checks, Gateway, MllpConnection, adtMessage, frame, nhsNumbers, parseAck, parseHttp, rawExchange, repoRoot, sleep,
  tempDir, tokens, FS, CR, VT,
} from "./lib/gateway.mjs";

const [bin, work] = process.argv.slice(2);
if (!bin || !work) {
  console.error("usage: node abuse.mjs MIDHURST_BINARY WORK_DIR");
  process.exit(2);
}
const configPath = path.join(repoRoot, "tests/e2e/abuse-config.json");
const config = JSON.parse(fs.readFileSync(configPath, "utf8"));
const limits = { http: config.http, mllp: config.mllp };

const checks = new Checks("abuse");
const gateway = new Gateway({ bin, dir: tempDir(work, "abuse-"), config: configPath });
await gateway.start();
const nhs = nhsNumbers(200, 930000000);
let serial = 0;
const nextMessage = (extra = {}) => {
  serial += 1;
  return { controlId: `AB${serial}`, text: adtMessage({ controlId: `AB${serial}`, nhs: nhs[serial % nhs.length], ...extra }) };
};

// The control: one MLLP message and, at the same time, HTTP reads and an HL7v2 POST.
async function stillServed(after) {
  const m = nextMessage();
  const p = nextMessage();
  const [mllp, metadata, post, ready] = await Promise.all([
    MllpConnection.open(gateway.mllpPort).then(async (c) => {
      const ack = await c.send(m.text);
      await c.close();
      return parseAck(ack);
    }).catch((e) => ({ error: e.message })),
    gateway.http("GET", "/metadata").catch((e) => ({ error: e.message })),
    gateway.http("POST", "/hl7v2", { token: tokens.ingest, headers: { "content-type": "x-application/hl7-v2+er7" }, body: p.text })
      .catch((e) => ({ error: e.message })),
    gateway.http("GET", "/readyz").catch((e) => ({ error: e.message })),
  ]);
  checks.check(mllp.code === "AA" && mllp.control === m.controlId, `after ${after}: MLLP client got ${JSON.stringify(mllp)}`);
  checks.check(metadata.status === 200 && metadata.json?.resourceType === "CapabilityStatement",
    `after ${after}: GET /metadata ${metadata.status ?? metadata.error}`);
  const postAck = post.status === 200 ? parseAck(post.text) : {};
  checks.check(postAck.code === "AA" && postAck.control === p.controlId, `after ${after}: POST /hl7v2 ${post.status ?? post.error} ${post.text ?? ""}`);
  checks.check(ready.status === 200, `after ${after}: GET /readyz ${ready.status ?? ready.error}`);
}

async function metric(name, labels) {
  const r = await gateway.http("GET", "/metrics", { token: tokens.monitor });
  let sum = 0;
  for (const line of r.text.split("\n")) {
    if (!line.startsWith(name)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.split(" ").pop());
  }
  return sum;
}

const ooCode = (json) => json?.resourceType === "OperationOutcome" ? json.issue?.[0]?.code : undefined;

// What the CapabilityStatement declares: a case about an interaction the gateway does not
// declare yet is skipped (and says so) instead of failing; once declared, it must work.
async function declares(type, interaction) {
  const cs = (await gateway.http("GET", "/metadata")).json;
  const r = (cs?.rest?.[0]?.resource ?? []).find((x) => x.type === type);
  return Boolean(r?.interaction?.some((i) => i.code === interaction));
}
const skipped = [];
const skip = (why) => skipped.push(why);

const cases = [];
const test = (name, fn) => cases.push({ name, fn });

// --- MLLP ---

test("MLLP frame over max_frame_bytes: AR echoing its MSH-10, then closed", async () => {
  const m = nextMessage();
  const big = m.text + "\rNTE|1||" + "x".repeat(limits.mllp.max_frame_bytes + 100);
  const r = await rawExchange(gateway.mllpPort, [frame(big)], { timeoutMs: 8000 });
  const ack = parseAck(r.data.toString("utf8"));
  checks.check(ack.code === "AR" && ack.control === m.controlId, `oversize frame answered ${JSON.stringify(ack)}`);
  checks.check(r.closed, "the connection stays open after an oversize frame");
});

test("MLLP start block followed by endless bytes: AR and closed", async () => {
  const junk = Buffer.alloc(limits.mllp.max_frame_bytes * 3, 0x41);
  const r = await rawExchange(gateway.mllpPort, [Buffer.from([VT]), junk], { timeoutMs: 8000 });
  checks.check(r.closed, "a frame that never ends and outgrows the limit does not close the connection");
  checks.check(parseAck(r.data.toString("utf8")).code === "AR", `unterminated oversize frame answered '${r.data.toString("utf8").slice(0, 200)}'`);
});

test("MLLP garbage outside frames: counted, then the next frame is ACKed", async () => {
  const before = await metric("midhurst_mllp_framing_errors_total");
  const c = await MllpConnection.open(gateway.mllpPort);
  c.write(Buffer.from("GET / HTTP/1.1\r\n\r\n\x00\xff\xfe garbage\r\n", "latin1"));
  const m = nextMessage();
  const ack = parseAck(await c.send(m.text).catch((e) => e.message));
  await c.close();
  checks.check(ack.code === "AA" && ack.control === m.controlId, `frame after garbage answered ${JSON.stringify(ack)}`);
  const after = await metric("midhurst_mllp_framing_errors_total");
  checks.check(after > before, `midhurst_mllp_framing_errors_total did not grow (${before} -> ${after})`);
});

test("MLLP frame that is not HL7v2: AR, and the connection still works", async () => {
  const c = await MllpConnection.open(gateway.mllpPort);
  const bad = await c.send("this is not an HL7 message\r").catch((e) => `error: ${e.message}`);
  const ack = parseAck(bad);
  checks.check(ack.code === "AR", `a non-HL7 frame answered '${bad.slice(0, 200)}'`);
  const m = nextMessage();
  const good = parseAck(await c.send(m.text).catch((e) => e.message));
  await c.close();
  checks.check(good.code === "AA" && good.control === m.controlId, `frame after a non-HL7 frame answered ${JSON.stringify(good)}`);
});

test("MLLP random binary bytes with stray start and end blocks", async () => {
  // Deterministic noise: no crash, whatever the gateway makes of it.
  const noise = Buffer.alloc(64 * 1024);
  let x = 12345;
  for (let i = 0; i < noise.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    noise[i] = i % 997 === 0 ? VT : i % 1009 === 0 ? FS : i % 1013 === 0 ? CR : x >>> 24;
  }
  const r = await rawExchange(gateway.mllpPort, [noise], { end: true, timeoutMs: 8000 });
  checks.check(r.closed, "the gateway did not close a half-closed connection that sent noise");
});

test("MLLP slow sender, a byte at a time, every gap under the idle limit: ACKed", async () => {
  const m = nextMessage();
  const bytes = frame(m.text);
  const gap = Math.floor(limits.mllp.idle_timeout_seconds * 1000 * 0.6);
  // The first 60 bytes one by one, then the rest in three pieces, pausing 0.6 x the idle limit
  // before each: the whole message takes longer than the idle limit, no silence reaches it.
  const chunks = [];
  for (let i = 0; i < 60; i++) chunks.push(bytes.subarray(i, i + 1), 5);
  const third = Math.ceil((bytes.length - 60) / 3);
  for (let k = 0; k < 3; k++) chunks.push(gap, bytes.subarray(60 + k * third, Math.min(bytes.length, 60 + (k + 1) * third)));
  const r = await rawExchange(gateway.mllpPort, chunks, { timeoutMs: 3 * gap + 5000 });
  const ack = parseAck(r.data.toString("utf8"));
  checks.check(ack.code === "AA" && ack.control === m.controlId, `slow sender answered ${JSON.stringify(ack)}`);
});

test("MLLP silent connection: closed after the idle limit", async () => {
  const idleMs = limits.mllp.idle_timeout_seconds * 1000;
  const r = await rawExchange(gateway.mllpPort, [], { timeoutMs: idleMs + 4000 });
  checks.check(r.closed && r.ms >= idleMs - 200, `a silent connection: closed ${r.closed} after ${r.ms} ms (limit ${idleMs})`);
  const partial = await rawExchange(gateway.mllpPort, [Buffer.from([VT]), Buffer.from("MSH|^~\\&|PAS|RYJ|")], { timeoutMs: idleMs + 4000 });
  checks.check(partial.closed && partial.ms >= idleMs - 200, `a connection silent mid-frame: closed ${partial.closed} after ${partial.ms} ms`);
});

test("MLLP half-closed after sending: the ACKs are still delivered", async () => {
  const ms = [nextMessage(), nextMessage(), nextMessage()];
  const r = await rawExchange(gateway.mllpPort, ms.map((m) => frame(m.text)), { end: true, timeoutMs: 8000 });
  const acks = r.data.toString("utf8").split(String.fromCharCode(VT)).filter(Boolean).map(parseAck);
  checks.check(acks.length === 3 && acks.every((a, i) => a.code === "AA" && a.control === ms[i].controlId),
    `after SHUT_WR: ACKs ${JSON.stringify(acks)}`);
  checks.check(r.closed, "the gateway did not close after the half-closed peer's ACKs");
});

test("MLLP pipelined burst far beyond max_in_flight: every ACK, in order", async () => {
  const ms = Array.from({ length: 60 }, () => nextMessage());
  const c = await MllpConnection.open(gateway.mllpPort);
  const acks = await Promise.all(ms.map((m) => c.send(m.text).then(parseAck, (e) => ({ error: e.message }))));
  await c.close();
  const wrong = acks.filter((a, i) => a.code !== "AA" || a.control !== ms[i].controlId);
  checks.check(wrong.length === 0, `pipelined burst: ${wrong.length} wrong ACKs, e.g. ${JSON.stringify(wrong[0])}`);
});

test("MLLP resend pipelined with updates to the same patient: the resend is a duplicate, the updates AA", async () => {
  // The duplicate and the updates reach the writer together (one group commit): the duplicate
  // must change nothing, and must not upset the versions the updates are written at.
  const c = await MllpConnection.open(gateway.mllpPort);
  const wrong = [];
  for (let p = 0; p < 20; p++) {
    const first = nextMessage();
    await c.send(first.text);
    const nhsOf = first.text.match(/PID\|1\|\|(\d{10})/)[1];
    const updates = [1, 2].map(() => {
      serial += 1;
      return { controlId: `AB${serial}`, text: adtMessage({ controlId: `AB${serial}`, nhs: nhsOf, event: "A08", given: `U${serial}` }) };
    });
    const acks = await Promise.all([first, ...updates].map((m) => c.send(m.text).then(parseAck)));
    acks.forEach((a, k) => {
      if (a.code !== "AA") wrong.push(`${[first, ...updates][k].controlId}: ${a.code} ${a.text.slice(0, 150)}`);
    });
  }
  await c.close();
  checks.check(wrong.length === 0, `${wrong.length} of 60 ACKs not AA, e.g. ${wrong.slice(0, 2).join("; ")}`);
});

test("MLLP connections beyond max_connections are closed at once", async () => {
  await sleep(300); // the previous cases' connections are gone
  const extra = 3;
  const conns = [];
  for (let i = 0; i < limits.mllp.max_connections + extra; i++) {
    conns.push(await MllpConnection.open(gateway.mllpPort));
    await sleep(20); // accepted in this order
  }
  await sleep(700); // well under the idle limit
  const closed = conns.filter((c) => c.closed).length;
  checks.check(closed === extra, `${closed} of ${conns.length} connections closed, expected ${extra} beyond the limit`);
  // The ones kept are served.
  const kept = conns.find((c) => !c.closed);
  if (kept) {
    const m = nextMessage();
    const ack = parseAck(await kept.send(m.text).catch((e) => e.message));
    checks.check(ack.code === "AA", `a connection within the limit answered ${JSON.stringify(ack)}`);
  }
  await Promise.all(conns.map((c) => (c.closed ? null : c.close())));
  await sleep(300);
});

// --- HTTP ---

const httpRequest = (lines, body = "") => Buffer.from(lines.join("\r\n") + "\r\n\r\n" + body, "latin1");

test("HTTP malformed request line: 400", async () => {
  const r = await rawExchange(gateway.httpPort, [Buffer.from("GARBAGE\r\n\r\n")]);
  checks.check(parseHttp(r.data).status === 400, `malformed request answered ${r.data.toString().slice(0, 120)}`);
  const bin = await rawExchange(gateway.httpPort, [Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x0d, 0x0a])]);
  checks.check(bin.closed && [0, 400].includes(parseHttp(bin.data).status), `binary request answered ${bin.data.toString().slice(0, 120)}`);
});

test("HTTP body over max_body_bytes: 413 OperationOutcome", async () => {
  const body = "x".repeat(limits.http.max_body_bytes + 1);
  const r = await rawExchange(gateway.httpPort, [httpRequest(["POST /hl7v2 HTTP/1.1", "Host: x", `Authorization: Bearer ${tokens.ingest}`,
    "Content-Type: x-application/hl7-v2+er7", `Content-Length: ${body.length}`, "Connection: close"], body)]);
  const res = parseHttp(r.data);
  checks.check(res.status === 413 && ooCode(res.json) === "too-long", `oversize body answered ${res.status} ${JSON.stringify(res.json)}`);
  // Announced but never sent: refused on the header alone.
  const announced = await rawExchange(gateway.httpPort, [httpRequest(["POST /hl7v2 HTTP/1.1", "Host: x",
    `Authorization: Bearer ${tokens.ingest}`, "Content-Type: x-application/hl7-v2+er7", "Content-Length: 100000000"])]);
  checks.check(parseHttp(announced.data).status === 413, `announced oversize body answered ${parseHttp(announced.data).status}`);
});

test("HTTP headers over max_header_bytes: 431", async () => {
  const r = await rawExchange(gateway.httpPort, [httpRequest(["GET /metadata HTTP/1.1", "Host: x",
    `X-Padding: ${"p".repeat(limits.http.max_header_bytes + 10)}`, "Connection: close"])]);
  checks.check(parseHttp(r.data).status === 431, `oversize headers answered ${parseHttp(r.data).status}`);
});

test("HTTP unknown resource type: 404 OperationOutcome", async () => {
  const r = await gateway.http("GET", "/NoSuchType/123", { token: tokens.hospice });
  checks.check(r.status === 404 && r.json?.resourceType === "OperationOutcome", `GET /NoSuchType/123 answered ${r.status} ${r.text.slice(0, 200)}`);
});

test("HTTP bad search parameters: 400 OperationOutcome", async () => {
  if (!(await declares("Patient", "search-type"))) return skip("Patient search is not declared in /metadata");
  for (const target of ["/Patient?birthdate=not-a-date", "/Patient?_count=lots"]) {
    const r = await gateway.http("GET", target, { token: tokens.hospice });
    checks.check(r.status === 400 && r.json?.resourceType === "OperationOutcome", `GET ${target} answered ${r.status} ${r.text.slice(0, 200)}`);
  }
});

test("HTTP missing, unknown and malformed tokens: 401 with WWW-Authenticate", async () => {
  for (const [what, headers] of [["no token", {}], ["unknown token", { authorization: "Bearer not-a-token" }],
    ["Basic credentials", { authorization: "Basic dXNlcjpwYXNz" }], ["empty bearer", { authorization: "Bearer " }]]) {
    const r = await gateway.http("GET", "/Patient/123", { headers });
    checks.check(r.status === 401 && r.headers.get("www-authenticate") && r.json?.resourceType === "OperationOutcome",
      `${what}: ${r.status} ${r.headers.get("www-authenticate")}`);
  }
});

test("HTTP missing scope: 403", async () => {
  const body = nextMessage().text;
  for (const [who, token] of [["monitor", tokens.monitor], ["hospice (read only)", tokens.hospice]]) {
    const r = await gateway.http("POST", "/hl7v2", { token, headers: { "content-type": "x-application/hl7-v2+er7" }, body });
    checks.check(r.status === 403 && r.json?.resourceType === "OperationOutcome", `${who} POST /hl7v2: ${r.status}`);
  }
});

test("HTTP wrong method 405 with Allow, wrong Accept 406, wrong Content-Type 415", async () => {
  const m = await gateway.http("DELETE", "/metadata", { token: tokens.ingest });
  checks.check(m.status === 405 && m.headers.get("allow"), `DELETE /metadata: ${m.status} Allow ${m.headers.get("allow")}`);
  const a = await gateway.http("GET", "/metadata", { headers: { accept: "text/csv" } });
  checks.check(a.status === 406, `GET /metadata Accept text/csv: ${a.status}`);
  const c = await gateway.http("POST", "/hl7v2", { token: tokens.ingest, headers: { "content-type": "text/csv" }, body: "a,b" });
  checks.check(c.status === 415, `POST /hl7v2 as text/csv: ${c.status}`);
});

test("HTTP silent and slow-header connections: closed after the idle limit", async () => {
  const idleMs = limits.http.idle_timeout_seconds * 1000;
  const r = await rawExchange(gateway.httpPort, [Buffer.from("GET /metadata HTTP/1.1\r\nHost: x\r\n")], { timeoutMs: idleMs + 4000 });
  checks.check(r.closed && r.ms >= idleMs - 200, `half a request then silence: closed ${r.closed} after ${r.ms} ms`);
});

test("HTTP half-closed after the request: the response is still delivered", async () => {
  const r = await rawExchange(gateway.httpPort, [httpRequest(["GET /healthz HTTP/1.1", "Host: x"])], { end: true });
  checks.check(parseHttp(r.data).status === 200, `after SHUT_WR: ${r.data.toString().slice(0, 100)}`);
});

test("HTTP connections beyond max_connections: 503", async () => {
  // fetch() keeps connections alive; let the gateway's idle timeout close those first.
  await sleep(limits.http.idle_timeout_seconds * 1000 + 500);
  const n = limits.http.max_connections + 2;
  // Open them all at once and leave them silent; the ones beyond the limit are answered at once.
  const results = await Promise.all(Array.from({ length: n }, () => rawExchange(gateway.httpPort, [], { timeoutMs: 800 })));
  const refused = results.filter((r) => parseHttp(r.data).status === 503);
  checks.check(refused.length === 2, `${refused.length} of ${n} connections got 503, expected 2`);
  checks.check(refused.every((r) => ooCode(parseHttp(r.data).json) !== undefined), "a 503 without an OperationOutcome");
  await sleep(300);
});

for (const c of cases) {
  const before = checks.failures.length;
  const skippedBefore = skipped.length;
  const t0 = Date.now();
  try {
    await c.fn();
  } catch (e) {
    checks.check(false, `${c.name}: threw ${e.stack}`);
  }
  await stillServed(c.name);
  const verdict = checks.failures.length !== before ? "FAIL" : skipped.length > skippedBefore ? "SKIP" : "PASS";
  console.log(`${verdict}: ${c.name} (${Date.now() - t0} ms)${verdict === "SKIP" ? ": " + skipped.at(-1) : ""}`);
}

const code = await gateway.stop();
checks.check(code === 0, `the gateway exited ${code} on SIGTERM`);
const log = gateway.log();
checks.check(!/AddressSanitizer|UndefinedBehaviorSanitizer|runtime error/.test(log), "a sanitizer report in the gateway log");
if (checks.failures.length) console.log(`gateway log: ${gateway.logPath()}`);
else fs.rmSync(gateway.dir, { recursive: true, force: true });
checks.finish();
