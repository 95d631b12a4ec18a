// The conformance suite runner: starts a live gateway (the given `midhurst` binary, a fresh
// data directory, ports 0 on 127.0.0.1, examples/midhurst.json), loads examples/*.hl7 over
// MLLP, then runs every interaction of conformance/suite/*.json in order and prints one
// PASS/FAIL/SKIP line each. Exit status 0 when nothing failed, 1 otherwise, 2 bad usage.
// The suite format is described in conformance/README.md.
//
//   node conformance/run.mjs MIDHURST_BINARY [--work DIR] [--suite DIR] [--only TEXT] [--keep]
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Gateway, MllpConnection, parseAck, repoRoot, tempDir, tokens } from "../tests/e2e/lib/gateway.mjs";

function usage(message) {
  if (message) console.error(`run.mjs: ${message}`);
  console.error("usage: node conformance/run.mjs MIDHURST_BINARY [--work DIR] [--suite DIR] [--only TEXT] [--keep]");
  process.exit(2);
}

const argv = process.argv.slice(2);
const options = { work: os.tmpdir(), suite: path.join(repoRoot, "conformance/suite"), only: "", keep: false };
let bin;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--work" || a === "--suite" || a === "--only") {
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    options[a.slice(2)] = argv[++i];
  } else if (a === "--keep") options.keep = true;
  else if (a === "-h" || a === "--help") usage();
  else if (!bin && !a.startsWith("-")) bin = a;
  else usage(`unknown argument '${a}'`);
}
if (!bin) usage("the midhurst binary is missing");

// --- the expectation language ---

// Reads "a.b[0].c", "entry.length", "issue[0].code" from a JSON value; undefined when absent.
function lookup(value, expr) {
  if (expr === "" || expr === "$") return value;
  const parts = expr.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let v = value;
  for (const p of parts) {
    if (v === undefined || v === null) return undefined;
    if (p.startsWith("[")) v = Array.isArray(v) ? v[Number(p.slice(1, -1))] : undefined;
    else if (p === "length" && (Array.isArray(v) || typeof v === "string")) v = v.length;
    else v = typeof v === "object" ? v[p] : undefined;
  }
  return v;
}

// A matcher is a plain value (equality, deep for objects and arrays) or one operator object:
// {"present": true|false}, {"contains": "text" or a value an array must hold},
// {"matches": "regex"}, {"oneOf": [...]}, {"gte": n}, {"lte": n}.
const OPERATORS = ["present", "contains", "matches", "oneOf", "gte", "lte"];
function match(actual, expected) {
  const isOperator = expected && typeof expected === "object" && !Array.isArray(expected) &&
    Object.keys(expected).length === 1 && OPERATORS.includes(Object.keys(expected)[0]);
  if (!isOperator) return JSON.stringify(actual) === JSON.stringify(expected);
  const [op, arg] = Object.entries(expected)[0];
  switch (op) {
    case "present": return (actual !== undefined && actual !== null) === arg;
    case "contains":
      if (Array.isArray(actual)) return actual.some((x) => JSON.stringify(x) === JSON.stringify(arg));
      return typeof actual === "string" && actual.includes(arg);
    case "matches": return typeof actual === "string" && new RegExp(arg).test(actual);
    case "oneOf": return arg.some((x) => JSON.stringify(x) === JSON.stringify(actual));
    case "gte": return typeof actual === "number" && actual >= arg;
    case "lte": return typeof actual === "number" && actual <= arg;
  }
  return false;
}

// Replaces {{name}} with the variable's value; an unknown variable is an error.
function substitute(text, vars) {
  return text.replace(/\{\{([^}]+)\}\}/g, (_, name) => {
    if (!(name in vars)) throw new Error(`unknown variable {{${name}}}`);
    return vars[name];
  });
}

function substituteDeep(value, vars) {
  if (typeof value === "string") return substitute(value, vars);
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, vars));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteDeep(v, vars)]));
  return value;
}

// --- the gateway and its data ---

function loadSuite(dir) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  const out = [];
  for (const f of files) {
    const file = path.join(dir, f);
    let doc;
    try {
      doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`${file}: ${e.message}`);
    }
    if (!Array.isArray(doc.interactions)) throw new Error(`${file}: "interactions" must be an array`);
    doc.interactions.forEach((it, i) => {
      if (!it.name || !it.request?.method || !it.request?.path || !it.expect?.status)
        throw new Error(`${file}: interaction ${i + 1} needs name, request.method, request.path and expect.status`);
      out.push({ ...it, file: f });
    });
  }
  return out;
}

// The example messages, their MSH-10 and NHS number, as variables example.NAME.controlId/nhs.
function exampleMessages() {
  const dir = path.join(repoRoot, "examples");
  return fs.readdirSync(dir).filter((f) => f.endsWith(".hl7")).sort().map((f) => {
    const text = fs.readFileSync(path.join(dir, f), "utf8").replace(/\r?\n/g, "\r").replace(/\r+$/, "");
    const segs = text.split("\r");
    const msh = segs.find((s) => s.startsWith("MSH"))?.split("|") ?? [];
    const pid = segs.find((s) => s.startsWith("PID"))?.split("|") ?? [];
    const nhs = (pid[3] ?? "").split("~").map((r) => r.split("^")).find((c) => c[4] === "NH")?.[0] ?? "";
    return { name: f.replace(/\.hl7$/, ""), text, controlId: msh[9] ?? "", nhs };
  });
}

// Sends the examples; each one `midhurst translate` accepts must be ACKed AA, the others
// (a message type no profile maps yet) AE or AR.
async function load(gateway, examples) {
  const conn = await MllpConnection.open(gateway.mllpPort);
  const problems = [];
  const mappings = process.env.MIDHURST_MAPPINGS_DIR ?? path.join(repoRoot, "mappings");
  for (const e of examples) {
    const translate = spawnSync(bin, ["translate", "--mappings", mappings, path.join(repoRoot, "examples", `${e.name}.hl7`)],
      { cwd: repoRoot, encoding: "utf8", maxBuffer: 1 << 26 });
    e.accepted = translate.status === 0;
    const ack = parseAck(await conn.send(e.text));
    const ok = e.accepted ? ack.code === "AA" && ack.control === e.controlId : ["AE", "AR"].includes(ack.code);
    if (!ok) problems.push(`${e.name}: ${ack.code} ${ack.text} (translate exit ${translate.status})`);
  }
  await conn.close();
  return problems;
}

// --- running ---

async function declared(gateway) {
  const cs = (await gateway.http("GET", "/metadata")).json;
  const set = new Set();
  for (const r of cs?.rest?.[0]?.resource ?? []) {
    for (const i of r.interaction ?? []) set.add(`${r.type}:${i.code}`);
    for (const o of r.operation ?? []) set.add(`${r.type}:$${o.name}`);
    for (const s of r.searchParam ?? []) set.add(`${r.type}:search:${s.name}`);
  }
  for (const o of cs?.rest?.[0]?.operation ?? []) set.add(`$${o.name}`);
  return set;
}

async function runOne(gateway, it, vars) {
  const req = substituteDeep(it.request, vars);
  const headers = { ...(req.headers ?? {}) };
  if (req.token) headers.authorization = `Bearer ${suiteTokens[req.token] ?? req.token}`;
  let body = req.body;
  if (req.bodyFile) body = fs.readFileSync(path.join(repoRoot, req.bodyFile), "utf8").replace(/\r?\n/g, "\r");
  if (body !== undefined && typeof body !== "string") body = JSON.stringify(body);
  const res = await fetch(gateway.base + req.path, { method: req.method, headers, body, redirect: "manual" });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const exp = substituteDeep(it.expect, vars);
  const problems = [];
  if (res.status !== exp.status) problems.push(`status ${res.status}, expected ${exp.status}`);
  for (const [name, m] of Object.entries(exp.headers ?? {})) {
    const actual = res.headers.get(name) ?? undefined;
    if (!match(actual, m)) problems.push(`header ${name}: ${JSON.stringify(actual)} does not match ${JSON.stringify(m)}`);
  }
  if (exp.body) {
    if (json === undefined) problems.push(`the body is not JSON: ${text.slice(0, 120)}`);
    else for (const [expr, m] of Object.entries(exp.body)) {
      const actual = lookup(json, expr);
      if (!match(actual, m)) problems.push(`${expr}: ${JSON.stringify(actual)?.slice(0, 200)} does not match ${JSON.stringify(m)}`);
    }
  }
  for (const t of exp.text ?? []) if (!text.includes(t)) problems.push(`the body lacks ${JSON.stringify(t)}`);
  for (const [name, expr] of Object.entries(it.capture ?? {})) {
    const v = expr.startsWith("header:") ? res.headers.get(expr.slice(7)) : lookup(json, expr);
    if (v === undefined || v === null) problems.push(`capture ${name}: nothing at ${expr}`);
    else vars[name] = String(v);
  }
  if (problems.length) problems.push(`body: ${text.slice(0, 300)}`);
  return problems;
}

let suite;
try {
  suite = loadSuite(options.suite);
} catch (e) {
  console.error(`run.mjs: ${e.message}`);
  process.exit(2);
}
const dir = tempDir(options.work, "conformance-");
// The configuration's clients plus one reading every type (`"token": "reader"`), so that the
// suite reaches the types the development hospice client may not read (Flag, Provenance...).
const readerToken = "conformance-reader-token";
const suiteTokens = { ...tokens, reader: readerToken };
const configFile = process.env.E2E_CONFIG ?? path.join(repoRoot, "examples/midhurst.json");
const clients = [...(JSON.parse(fs.readFileSync(configFile, "utf8")).clients ?? []), {
  client: "conformance-reader",
  token_sha256: crypto.createHash("sha256").update(readerToken).digest("hex"),
  scopes: ["system/*.read"],
}];
const gateway = new Gateway({ bin, dir, sets: [`clients=${JSON.stringify(clients)}`] });
let failed = 0, passed = 0, skipped = 0;
try {
  await gateway.start();
  const examples = exampleMessages();
  const loadProblems = await load(gateway, examples);
  const mapped = examples.filter((e) => e.accepted).length;
  console.log(`${loadProblems.length ? "FAIL" : "PASS"}: load ${examples.length} example message(s) over MLLP ` +
    `(${mapped} AA, ${examples.length - mapped} that no profile maps refused)${loadProblems.length ? ": " + loadProblems.join("; ") : ""}`);
  if (loadProblems.length) failed += 1;
  else passed += 1;
  const vars = {};
  for (const e of examples) {
    vars[`example.${e.name}.controlId`] = e.controlId;
    vars[`example.${e.name}.nhs`] = e.nhs;
  }
  const supported = await declared(gateway);
  for (const it of suite) {
    const label = `${it.file}: ${it.name}`;
    if (options.only && !label.includes(options.only)) continue;
    const missing = (it.requires ?? []).filter((r) => !supported.has(r));
    if (missing.length) {
      skipped += 1;
      console.log(`SKIP: ${label} (not declared in /metadata: ${missing.join(", ")})`);
      continue;
    }
    let problems;
    try {
      problems = await runOne(gateway, it, vars);
    } catch (e) {
      problems = [`error: ${e.message}`];
    }
    if (problems.length) {
      failed += 1;
      console.log(`FAIL: ${label}\n      ${problems.join("\n      ")}`);
    } else {
      passed += 1;
      console.log(`PASS: ${label}`);
    }
  }
  const code = await gateway.stop();
  if (code !== 0) {
    failed += 1;
    console.log(`FAIL: the gateway exited ${code} on SIGTERM`);
  }
} catch (e) {
  failed += 1;
  console.log(`FAIL: ${e.message}`);
  await gateway.kill();
}
console.log(`conformance: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed || options.keep) console.log(`gateway log and data: ${dir}`);
else fs.rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
