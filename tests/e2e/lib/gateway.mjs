// Helpers shared by the end-to-end tests: start and stop the real `midhurst serve` binary on
// 127.0.0.1 with ports 0 and a fresh data directory, talk MLLP to it over plain sockets, build
// ADT messages with valid NHS numbers, and query the SQLite store with the sqlite3 CLI.
// Node's standard library only, so any Node.js 18+ runs it.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The repository root: the gateway is run from there, as `scripts/run.sh` does, so the
// example configuration's relative paths (mappings/, conformance/) resolve.
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export const tokens = {
  // The development tokens of examples/midhurst.json (README "Configuration").
  hospice: "dev-hospice-token", // system/Patient.read, Encounter.read, ServiceRequest.read
  ingest: "dev-ingest-token", // system/*.write
  monitor: "dev-monitor-token", // no scopes
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A fresh directory under `parent` (the build directory, or the system temporary directory).
export function tempDir(parent, prefix) {
  const base = parent ?? os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, prefix));
}

// A running `midhurst serve`. start() resolves once the port file exists; restart() starts
// it again on the same data directory (after kill() or stop()).
export class Gateway {
  // bin: the midhurst binary; dir: a directory of its own (data/, logs, port file);
  // config: the JSON configuration file; sets: extra `--set KEY=VALUE` strings.
  // E2E_CONFIG replaces the default configuration (to run the suites against another one).
  constructor({ bin, dir, config = process.env.E2E_CONFIG ?? path.join(repoRoot, "examples/midhurst.json"), sets = [] }) {
    Object.assign(this, { bin, dir, config, sets });
    this.dataDir = path.join(dir, "data");
    this.portFile = path.join(dir, "ports.json");
    this.runs = 0;
    this.proc = null;
  }

  get dbPath() {
    return path.join(this.dataDir, "midhurst.db");
  }

  logPath(run = this.runs) {
    return path.join(this.dir, `gateway-${run}.log`);
  }

  async start(timeoutMs = 30000) {
    fs.rmSync(this.portFile, { force: true });
    this.runs += 1;
    const log = fs.openSync(this.logPath(), "w");
    const args = ["serve", "--config", this.config, "--http", "127.0.0.1:0", "--mllp", "127.0.0.1:0",
      "--data-dir", this.dataDir, "--port-file", this.portFile];
    for (const s of this.sets) args.push("--set", s);
    const proc = spawn(this.bin, args, { cwd: repoRoot, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + timeoutMs;
    let early = null;
    this.exited.then((e) => (early = e));
    while (!fs.existsSync(this.portFile)) {
      if (early) throw new Error(`the gateway exited (${JSON.stringify(early)}) before listening:\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`the gateway did not listen within ${timeoutMs} ms:\n${this.log()}`);
      await sleep(20);
    }
    const ports = JSON.parse(fs.readFileSync(this.portFile, "utf8"));
    this.httpPort = ports.http;
    this.mllpPort = ports.mllp;
    this.base = `http://127.0.0.1:${this.httpPort}`;
    return this;
  }

  log(run = this.runs) {
    try {
      return fs.readFileSync(this.logPath(run), "utf8");
    } catch {
      return "";
    }
  }

  // SIGKILL: no shutdown, no flush; what survives is what was committed.
  async kill() {
    if (!this.proc) return;
    this.proc.kill("SIGKILL");
    await this.exited;
    this.proc = null;
  }

  // SIGTERM and wait; returns the exit code (null when killed by a signal after the timeout).
  async stop(timeoutMs = 30000) {
    if (!this.proc) return null;
    this.proc.kill("SIGTERM");
    const timer = sleep(timeoutMs).then(() => null);
    const result = await Promise.race([this.exited, timer]);
    if (!result) {
      await this.kill();
      throw new Error(`the gateway did not stop within ${timeoutMs} ms of SIGTERM`);
    }
    this.proc = null;
    return result.code;
  }

  // HTTP request with fetch; `token` adds the bearer header. Returns {status, headers, text, json}.
  async http(method, target, { token, headers = {}, body } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    const res = await fetch(this.base + target, { method, headers: h, body });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }
}

// --- MLLP ---

export const VT = 0x0b, FS = 0x1c, CR = 0x0d;

export function frame(message) {
  const body = Buffer.isBuffer(message) ? message : Buffer.from(message, "utf8");
  return Buffer.concat([Buffer.from([VT]), body, Buffer.from([FS, CR])]);
}

// One MLLP connection. send() returns a promise of the ACK text; ACKs arrive in the order the
// messages were sent (README: "ACK order is the connection's order"), so several may be in
// flight. When the connection ends, every unanswered promise rejects.
export class MllpConnection {
  static open(port, { timeoutMs = 10000 } = {}) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.setNoDelay(true);
      const fail = (e) => reject(e);
      socket.once("error", fail);
      socket.once("connect", () => {
        socket.off("error", fail);
        resolve(new MllpConnection(socket, timeoutMs));
      });
    });
  }

  constructor(socket, timeoutMs) {
    this.socket = socket;
    this.pending = [];
    this.buffer = Buffer.alloc(0);
    this.closed = false;
    this.closeReason = null;
    this.frames = []; // ACKs that arrived with nobody waiting (e.g. an AR before close)
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    socket.setTimeout(timeoutMs, () => this.destroy(new Error("MLLP read timeout")));
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (e) => this.finish(e));
    socket.on("close", () => this.finish(new Error("the connection closed")));
  }

  onData(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const start = this.buffer.indexOf(VT);
      if (start < 0) break;
      const end = this.buffer.indexOf(FS, start);
      if (end < 0 || end + 1 >= this.buffer.length) break;
      const text = this.buffer.subarray(start + 1, end).toString("utf8");
      this.buffer = this.buffer.subarray(end + 2);
      const waiter = this.pending.shift();
      if (waiter) waiter.resolve(text);
      else this.frames.push(text);
    }
  }

  finish(error) {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = error;
    for (const w of this.pending.splice(0)) w.reject(error);
    this.resolveEnded(error);
  }

  send(message) {
    if (this.closed) return Promise.reject(this.closeReason ?? new Error("closed"));
    const p = new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
    this.socket.write(frame(message));
    return p;
  }

  // Writes raw bytes without expecting an answer.
  write(bytes) {
    this.socket.write(bytes);
  }

  // Resolves with the next frame, whether or not a send() is waiting for it.
  nextFrame() {
    if (this.frames.length) return Promise.resolve(this.frames.shift());
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  close() {
    this.socket.end();
    return this.ended;
  }

  destroy(error) {
    this.socket.destroy();
    this.finish(error ?? new Error("destroyed"));
  }
}

// Fields of an ACK: MSA-1 (code), MSA-2 (control id), and the ERR segments' text.
export function parseAck(text) {
  const segments = text.split("\r").filter(Boolean);
  // The ACK uses the original message's delimiters: MSH-1 names the field separator.
  const sep = text.startsWith("MSH") && text.length > 3 ? text[3] : "|";
  const field = (seg, n) => (seg ? seg.split(sep)[n] ?? "" : "");
  const msa = segments.find((s) => s.startsWith("MSA"));
  return {
    code: field(msa, 1),
    control: field(msa, 2),
    text: field(msa, 3),
    err: segments.filter((s) => s.startsWith("ERR")),
  };
}

// --- HL7v2 messages ---

// The NHS number with Modulus 11 check digit for a 9-digit stem, or null when the check
// digit would be 10 (such stems are never issued). domain.md section 5.
export function nhsNumberFor(stem) {
  const digits = String(stem).padStart(9, "0").split("").map(Number);
  const sum = digits.reduce((s, d, i) => s + d * (10 - i), 0);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  if (check === 10) return null;
  return digits.join("") + check;
}

// `count` distinct valid NHS numbers, starting from the 9-digit stem `from`.
export function nhsNumbers(count, from = 900000000) {
  const out = [];
  for (let stem = from; out.length < count; stem += 1) {
    const n = nhsNumberFor(stem);
    if (n) out.push(n);
  }
  return out;
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

// An NHS ITK-style ADT message (like examples/adt_a01_admit.hl7) for one patient.
export function adtMessage({ controlId, nhs, event = "A01", family = "TEST", given = "PAT", birth = "19500101",
  sex = "F", app = "PAS", facility = "RYJ", localId = "" }) {
  const when = "20261101091500";
  const structure = event === "A08" ? "ADT_A01" : `ADT_${event}`;
  const ids = [`${nhs}^^^NHS^NH`];
  if (localId) ids.push(`${localId}^^^${facility}^MR`);
  return [
    `MSH|^~\\&|${app}|${facility}|ROUTE|ROUTE|${when}||ADT^${event}^${structure}|${controlId}|P|2.4|1|${when}|||GBR|UNICODE|EN||iTKv1.0`,
    `EVN|${event}|${when}`,
    `PID|1||${ids.join("~")}||${family}^${given}^^^MX^^L||${birth}|${sex}|||1 HIGH STREET^^LONDON^^W2 1NY^GBR^H`,
    `PV1|1|I|RYJ01^WARD 7^BED 4^RYJ01|21|||C3456789^Patel^Anika^^^Dr^^^GMC|||300`,
  ].join("\r");
}

export function birthDateFor(i) {
  return `19${pad(30 + (i % 60))}${pad(1 + (i % 12))}${pad(1 + (i % 28))}`;
}

// --- SQLite ---

// Runs `sql` on the store file with the sqlite3 CLI (read-only) and returns the rows as objects.
export function sqlite(dbPath, sql) {
  const out = execFileSync("sqlite3", ["-readonly", "-json", dbPath, sql], { encoding: "utf8", maxBuffer: 1 << 28 });
  return out.trim() ? JSON.parse(out) : [];
}

export function haveSqliteCli() {
  try {
    execFileSync("sqlite3", ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

// --- reporting ---

// Collects failed checks; check(cond, what) records `what` when cond is false.
export class Checks {
  constructor(name) {
    this.name = name;
    this.failures = [];
    this.passed = 0;
  }
  check(cond, what) {
    if (cond) this.passed += 1;
    else {
      this.failures.push(what);
      console.log(`FAIL: ${what}`);
    }
    return cond;
  }
  // Prints the summary and exits 0 when nothing failed, 1 otherwise.
  finish() {
    console.log(`${this.name}: ${this.passed} checks passed, ${this.failures.length} failed`);
    process.exit(this.failures.length ? 1 : 0);
  }
}

// --- raw TCP ---

// Connects, writes each of `chunks` (a Buffer/string, or a number = milliseconds to wait),
// optionally half-closes (`end`), and collects what comes back until the peer closes or
// `timeoutMs` passes. Returns {data, closed, ms} (ms: from connect to close).
export function rawExchange(port, chunks, { end = false, timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const parts = [];
    const t0 = Date.now();
    let settled = false;
    const settle = (closed) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(parts), closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    socket.on("data", (d) => parts.push(d));
    socket.on("error", () => settle(true));
    socket.on("close", () => settle(true));
    socket.on("connect", async () => {
      for (const c of chunks) {
        if (settled) return;
        if (typeof c === "number") await sleep(c);
        else socket.write(c);
      }
      if (end && !settled) socket.end();
    });
  });
}

// Status code and body of the first HTTP response in `bytes` (0 when there is none).
export function parseHttp(bytes) {
  const text = bytes.toString("utf8");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const split = text.indexOf("\r\n\r\n");
  const head = split >= 0 ? text.slice(0, split) : text;
  const headers = {};
  for (const line of head.split("\r\n").slice(1)) {
    const c = line.indexOf(":");
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  let json;
  try {
    json = JSON.parse(split >= 0 ? text.slice(split + 4) : "");
  } catch {
    json = undefined;
  }
  return { status: m ? Number(m[1]) : 0, headers, json };
}

// --- npm packages installed outside the repository ---

// Imports package `name` from `dir`/node_modules (an npm --prefix install in the build
// directory), by its package.json "exports"/"module"/"main" as Node's ESM resolver would.
export async function npmImport(dir, name) {
  const root = path.join(dir, "node_modules", name);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const dot = pkg.exports?.["."] ?? pkg.exports;
  const entry = (typeof dot === "string" ? dot : dot?.import ?? dot?.default) ?? pkg.module ?? pkg.main ?? "index.js";
  return import(new URL(`file://${path.join(root, entry)}`).href);
}
