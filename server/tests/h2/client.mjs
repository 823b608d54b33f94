// An HTTP/2 client for the TLS tests, on Node's own `http2` module (a
// client nobody here wrote). It trusts the CA file given, opens one
// connection, and prints one JSON line per thing it sees, for the Rust test
// to read:
//
//   node client.mjs read URL CA COUNT [name=value ...]
//     one stream: {"status", "protocol"} then {"id", "event", "data"} per SSE
//     event, up to COUNT events (or the stream's end), then {"end": true}.
//   node client.mjs many URL CA PATH1 PATH2 ...
//     one stream per path on the same connection, read to their end:
//     {"path", "status", "events"} per stream, then {"sessions": 1}.
//   node client.mjs slow URL CA N SIZE
//     on one connection, a stream of topic `slow` that is never read beside
//     one of topic `fast` that is; once both are open, publishes N events of
//     SIZE bytes to `slow` and N small ones to `fast` (over the same
//     connection), then prints {"fast": n} once the fast stream has all N.
//   node client.mjs goaway URL CA PATH N
//     N streams on PATH; prints {"open": N} once all answered 200, then
//     {"goaway": code} and {"ended": i, "clean": bool} per stream.
import http2 from "node:http2";
import { readFileSync } from "node:fs";

const [mode, base, caFile, ...rest] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const session = http2.connect(base, { ca: readFileSync(caFile) });
// A browser-like connection window (Chromium: 15 MB), so one stream that is
// not read cannot use it all up; each stream keeps Node's 64 KiB window.
session.on("connect", () => session.setLocalWindowSize(15 * 1024 * 1024));
session.on("error", (e) => out({ session_error: String(e.message) }));

/** Calls onEvent for each SSE event of `stream` (a minimal parser: test use). */
function events(stream, onEvent) {
  let buffer = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const e = { id: "", event: "message", data: [] };
      let any = false;
      for (const line of block.split("\n")) {
        const colon = line.indexOf(":");
        if (colon === 0) continue;
        const [field, value] = colon < 0 ? [line, ""] : [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, "")];
        if (field === "data") { e.data.push(value); any = true; }
        else if (field === "id") e.id = value;
        else if (field === "event") e.event = value;
      }
      if (any) onEvent({ ...e, data: e.data.join("\n") });
    }
  });
}

function request(path, headers = {}) {
  return session.request({ ":path": path, accept: "text/event-stream", ...headers });
}

if (mode === "read") {
  const [count, ...pairs] = rest;
  const headers = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
  const url = new URL(base);
  const stream = request(url.pathname + url.search, headers);
  let n = 0;
  stream.on("response", (h) => out({ status: h[":status"], protocol: session.alpnProtocol }));
  events(stream, (e) => {
    out(e);
    if (++n >= Number(count)) { out({ end: true }); session.close(); stream.close(); }
  });
  stream.on("end", () => { out({ end: true }); session.close(); });
} else if (mode === "many") {
  let left = rest.length;
  for (const path of rest) {
    const stream = request(path);
    let status = 0;
    let count = 0;
    stream.on("response", (h) => (status = h[":status"]));
    events(stream, () => count++);
    stream.on("end", () => {
      out({ path, status, events: count });
      if (--left === 0) { out({ sessions: 1 }); session.close(); }
    });
  }
} else if (mode === "slow") {
  const [n, size] = rest.map(Number);
  const slow = request("/sse/subscribe?topic=slow");
  slow.pause(); // never read: its window fills and stays full
  const fast = request("/sse/subscribe?topic=fast");
  let received = 0;
  events(fast, () => {
    if (++received === n) { out({ fast: received }); fast.close(); slow.close(); session.close(); }
  });
  const publish = (topic, data) => new Promise((ok, fail) => {
    const req = session.request({ ":method": "POST", ":path": `/api/topics/${topic}`, "content-type": "application/json" });
    req.on("response", (h) => (h[":status"] === 202 ? ok() : fail(new Error(`publish answered ${h[":status"]}`))));
    req.on("data", () => {});
    req.end(JSON.stringify({ data }));
  });
  let opened = 0;
  const start = async () => {
    if (++opened < 2) return;
    const big = "x".repeat(size);
    for (let i = 0; i < n; i++) {
      await publish("slow", big);
      await publish("fast", i);
    }
    out({ published: n });
  };
  slow.on("response", start);
  fast.on("response", start);
} else if (mode === "goaway") {
  const [path, count] = rest;
  let answered = 0;
  session.on("goaway", (code) => out({ goaway: code }));
  for (let i = 0; i < Number(count); i++) {
    const stream = request(path);
    stream.on("response", (h) => {
      if (h[":status"] === 200 && ++answered === Number(count)) out({ open: answered });
    });
    stream.on("data", () => {});
    stream.on("end", () => out({ ended: i, clean: stream.rstCode === http2.constants.NGHTTP2_NO_ERROR }));
    stream.on("error", (e) => out({ ended: i, clean: false, error: String(e.message) }));
  }
} else {
  out({ usage: "node client.mjs read|many|slow|goaway URL CA ..." });
  process.exit(2);
}
