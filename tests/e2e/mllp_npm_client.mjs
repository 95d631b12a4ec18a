// End-to-end: a real MLLP client we did not write (node-hl7-client from npm) sends HL7v2
// files to a running gateway and checks each ACK.
//   node mllp_npm_client.mjs PORT EXPECTED_CODE FILE...
// Every file is sent over one persistent connection, waiting for each ACK; each ACK's MSA-1
// must equal EXPECTED_CODE and its MSA-2 the MSH-10 sent. Exits 0 when all match, 1 otherwise.
import fs from "node:fs";
import Client, { Message } from "node-hl7-client";

const [port, expected, ...files] = process.argv.slice(2);
if (!port || !expected || files.length === 0) {
  console.error("usage: node mllp_npm_client.mjs PORT EXPECTED_CODE FILE...");
  process.exit(2);
}

const texts = files.map((f) => fs.readFileSync(f, "utf8").replace(/\r?\n/g, "\r").replace(/\r+$/, ""));
const messages = texts.map((text) => new Message({ text }));
// The client refuses messages whose MSH-12 differs from the connection's version.
const version = messages[0].get("MSH.12").toString();

const acks = [];
const client = new Client({ host: "127.0.0.1", version });
const conn = client.createConnection({ port: Number(port), waitAck: true, maxConnectionAttempts: 5 }, async (res) => {
  const ack = res.getMessage();
  acks.push({ code: ack.get("MSA.1").toString(), control: ack.get("MSA.2").toString() });
});

// One message at a time: send, then wait for its ACK (the library queues a message sent while
// an ACK is awaited until the next reconnect, so we do not rely on that).
const sent = [];
const deadline = Date.now() + 20000;
for (const message of messages) {
  sent.push(message.get("MSH.10").toString());
  await conn.sendMessage(message);
  while (acks.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
await conn.close();

let ok = acks.length === sent.length;
if (!ok) console.error(`sent ${sent.length} messages, got ${acks.length} ACKs`);
acks.forEach((a, i) => {
  const good = a.code === expected && a.control === sent[i];
  console.log(`${good ? "ok" : "FAIL"}: ${files[i]} -> MSA-1 ${a.code}, MSA-2 ${a.control}`);
  ok &&= good;
});
process.exit(ok ? 0 : 1);
