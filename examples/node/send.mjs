// Sends one example event of every type to Crossdock, as one signed batch.
//
// The examples are the ones the product documents (docs/events.md): each
// type's JSON Schema at /api/v1/schemas/<type> carries it. The CloudEvents
// SDK builds the events, the Standard Webhooks library signs the request.
//
//   npm ci
//   CROSSDOCK_URL=http://127.0.0.1:3000 CROSSDOCK_KEY=<the source's API key> \
//   CROSSDOCK_SIGNING_SECRET=<its whsec_ secret, if it signs> \
//   CROSSDOCK_SOURCE=wms/dc-atl node send.mjs [--dry-run]
//
// Prints the answer; exits 1 unless every event was accepted.

import { randomUUID } from "node:crypto";
import { CloudEvent } from "cloudevents";
import { Webhook } from "standardwebhooks";

const url = (process.env.CROSSDOCK_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const key = process.env.CROSSDOCK_KEY;
const secret = process.env.CROSSDOCK_SIGNING_SECRET;
const source = process.env.CROSSDOCK_SOURCE ?? "wms/dc-atl";
if (!key) {
  console.error("CROSSDOCK_KEY is not set: the API key of the source to send as");
  process.exit(2);
}

async function json(path) {
  const answer = await fetch(url + path);
  if (!answer.ok) throw new Error(`GET ${path}: ${answer.status}`);
  return answer.json();
}

// The documented example of every type a source may send.
const { schemas } = await json("/api/v1/schemas");
const examples = [];
for (const { href } of schemas) {
  examples.push((await json(href)).examples[0]);
}

// Each example as a CloudEvent of this sender, with an id of its own.
const events = examples.map(({ data, ...attributes }) =>
  new CloudEvent({ ...attributes, id: randomUUID(), source, data }),
);
const body = JSON.stringify(events);

const headers = { Authorization: `Bearer ${key}`, "Content-Type": "application/cloudevents-batch+json" };
if (process.argv.includes("--dry-run")) headers["crossdock-dry-run"] = "true";
if (secret) {
  const id = `msg_${randomUUID().replaceAll("-", "")}`;
  const now = new Date();
  headers["webhook-id"] = id;
  headers["webhook-timestamp"] = String(Math.floor(now.getTime() / 1000));
  headers["webhook-signature"] = new Webhook(secret).sign(id, now, body);
}

const answer = await fetch(`${url}/api/v1/events`, { method: "POST", headers, body });
const result = await answer.json();
console.log(answer.status, JSON.stringify(result, null, 1));
process.exit(answer.status === 200 && result.accepted === events.length ? 0 : 1);
