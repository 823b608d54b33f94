// The pushwire demo page: every panel is driven by the pushwire-client npm
// package (SseClient, SseParser), imported through the import map in
// index.html. Plain ES module, no framework. With private topics on (as
// `cargo xtask demo` starts the server), publishing and the private panel
// use tokens the server mints for a demo user.

import init, { SseClient, SseParser } from "pushwire-client";
import { LineChart } from "./chart.js";

const params = new URLSearchParams(location.search);
const num = (name, fallback) => {
  const v = Number(params.get(name));
  return params.has(name) && Number.isFinite(v) ? v : fallback;
};
/** Page settings; each can be overridden in the query string. */
const config = {
  topic: params.get("topic") || "demo",
  reconnectInterval: num("reconnectInterval", 1000),
  maxReconnectAttempts: num("maxReconnectAttempts", 10),
  pollMs: num("pollMs", 3000),
  demoInterval: num("demoInterval", 400),
  monitoringWindow: num("monitoringWindow", 240),
};
const COMPARE_TOPIC = "compare";

const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
const fmtInt = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const bytes = (n) => (n < 1024 ? `${fmtInt.format(n)} B` : n < 1048576 ? `${fmt.format(n / 1024)} KiB` : `${fmt.format(n / 1048576)} MiB`);
const ms = (n) => `${fmt.format(n)} ms`;

function logItem(list, text, cls, limit = 200) {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  list.prepend(li);
  while (list.children.length > limit) list.lastElementChild.remove();
  return li;
}

await init();
$("protocol").textContent = performance.getEntriesByType("navigation")[0]?.nextHopProtocol || "?";
/** Whether the server mints the demo user's tokens (private topics are on). */
const demoTokens = await fetch("/api/stats", { cache: "no-store" })
  .then((r) => r.json())
  .then((s) => s.demo_tokens === true)
  .catch(() => false);

// ---------------------------------------------------------------- connection
const topics = [config.topic, COMPARE_TOPIC];
$("conn-topics").textContent = topics.join(", ");
const compare = { sse: { count: 0, delay: 0, max: 0, bytes: 0 }, poll: { count: 0, delay: 0, max: 0, bytes: 0, requests: 0 } };
const listened = new Set();
let main = null;
let lastAttempt = 0;

function renderState(state) {
  const label = {
    connecting: "connecting",
    open: "open",
    reconnecting: `reconnecting ${lastAttempt} of ${config.maxReconnectAttempts}`,
    closed: "closed",
    failed: "gave up",
  }[state];
  const box = $("state");
  box.dataset.state = state;
  $("state-text").textContent = label;
  $("conn-state").textContent = label;
}

function renderStats() {
  if (!main) return;
  const s = main.stats;
  $("conn-last-id").textContent = s.lastEventId ?? "—";
  $("conn-events").textContent = fmtInt.format(s.eventsReceived);
  $("conn-parse-errors").textContent = fmtInt.format(s.parseErrors);
  $("conn-reconnects").textContent = fmtInt.format(s.reconnects);
}

function showEvent(data, meta) {
  const text = typeof data === "string" ? data : JSON.stringify(data);
  logItem($("recv-log"), `${meta.lastEventId}  ${meta.event}  ${text}`);
  renderStats();
}

/** Makes the subscription deliver events named `name` to the log. */
function listen(name) {
  if (listened.has(name) || !main) return;
  listened.add(name);
  main.on(name, showEvent);
}

function connectMain(lastEventId) {
  main?.close();
  main?.free();
  listened.clear();
  lastAttempt = 0;
  const url = `/sse/subscribe?${topics.map((t) => `topic=${encodeURIComponent(t)}`).join("&")}`;
  main = new SseClient(url, {
    reconnectInterval: config.reconnectInterval,
    maxReconnectAttempts: config.maxReconnectAttempts,
    reconnectOnOnline: true,
    ...(lastEventId ? { lastEventId } : {}),
  });
  main.on("state", (s) => {
    renderState(s);
    renderStats();
  });
  main.on("reconnecting", ({ attempt }) => {
    lastAttempt = attempt;
    renderState("reconnecting");
    renderStats();
  });
  main.on("open", () => (lastAttempt = 0));
  main.on("parse-error", ({ event, data, error }) => {
    logItem($("recv-log"), `parse error in "${event}": ${error} (data: ${data})`, "error");
    renderStats();
  });
  main.on("reset", (reset) => {
    $("reset-text").textContent = `${reset.message} (${reset.reason}). Events may have been missed; the view continues with live events.`;
    $("reset-notice").hidden = false;
    renderStats();
  });
  main.on(COMPARE_TOPIC, (data, meta) => {
    const delay = Date.now() - data.sent_at;
    const c = compare.sse;
    c.count += 1;
    c.delay += delay;
    c.max = Math.max(c.max, delay);
    // The frame as it crossed the wire: id, event and data lines.
    c.bytes += `id: ${meta.lastEventId}\nevent: ${COMPARE_TOPIC}\ndata: ${JSON.stringify(data)}\n\n`.length;
    renderCompare();
    renderStats();
  });
  listen("message");
  listen($("pub-event").value || "message");
  main.connect();
}

$("conn-connect").addEventListener("click", () => main.connect());
$("conn-close").addEventListener("click", () => main.close());
$("conn-reset").addEventListener("click", () => {
  $("recv-log").replaceChildren();
  $("reset-notice").hidden = true;
  connectMain(undefined);
  renderStats();
});
$("reset-dismiss").addEventListener("click", () => ($("reset-notice").hidden = true));

// ------------------------------------------------------------------- counter
let counter = null;
function startCounter() {
  counter?.close();
  counter?.free();
  counter = new SseClient("/sse/counter?count=3600&interval_ms=1000", {
    reconnectInterval: config.reconnectInterval,
    maxReconnectAttempts: config.maxReconnectAttempts,
  });
  counter.on("message", (n) => {
    $("counter-value").textContent = n;
    $("counter-status").textContent = "counting";
  });
  counter.on("state", (s) => s !== "open" && ($("counter-status").textContent = s));
  counter.on("end", () => ($("counter-status").textContent = "complete"));
  counter.connect();
}
$("counter-restart").addEventListener("click", startCounter);

// ---------------------------------------------------------------- monitoring
const series = [
  { key: "cpu_usage", label: "CPU", unit: (v) => `${fmt.format(v)} %`, color: "#e4572e", max: 100 },
  { key: "memory_usage", label: "Memory", unit: (v) => `${fmt.format(v)} %`, color: "#2e86ab", max: 100 },
  { key: "network_io", label: "Network", unit: (v) => `${bytes(v)}/s`, color: "#7b2cbf" },
  { key: "active_connections", label: "Connections", unit: (v) => fmtInt.format(v), color: "#2a9d8f" },
  { key: "response_time_ms", label: "Response time", unit: (v) => ms(v), color: "#d4a017" },
];
const charts = series.map((s) => {
  const row = document.createElement("figure");
  row.className = "chart";
  const caption = document.createElement("figcaption");
  const name = document.createElement("span");
  name.textContent = s.label;
  const value = document.createElement("output");
  value.textContent = "—";
  value.id = `mon-${s.key}`;
  caption.append(name, value);
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `${s.label} over time`);
  canvas.dataset.points = "0";
  row.append(caption, canvas);
  $("charts").append(row);
  return { ...s, value, canvas, chart: new LineChart(canvas, { capacity: config.monitoringWindow, color: s.color, fixedMax: s.max }) };
});
$("mon-window").textContent = `${Math.round((config.monitoringWindow * 0.5) / 60)} minutes`;
const monitoring = new SseClient("/sse/monitoring", {
  reconnectInterval: config.reconnectInterval,
  maxReconnectAttempts: config.maxReconnectAttempts,
});
monitoring.on("monitoring", (m) => {
  for (const c of charts) {
    c.chart.push(m[c.key]);
    c.value.textContent = c.unit(m[c.key]);
    c.canvas.dataset.points = String(c.chart.length);
  }
});
window.addEventListener("resize", () => charts.forEach((c) => c.chart.draw()));

// ----------------------------------------------------------- advanced stream
let demoAbort = null;
$("demo-run").addEventListener("click", async () => {
  demoAbort?.abort();
  demoAbort = new AbortController();
  const log = $("demo-log");
  log.replaceChildren();
  const parser = new SseParser();
  let retry = null;
  try {
    const res = await fetch(`/sse/demo?interval_ms=${config.demoInterval}`, { signal: demoAbort.signal });
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const item of parser.feed(value)) {
        if (item.type === "retry") {
          retry = item.retry;
        } else if (item.type === "event") {
          const data = JSON.parse(item.data);
          const detail = item.event === "data" ? `value ${data.value}, ${data.status}` : data.message ?? data.reason ?? "";
          const li = document.createElement("li");
          li.dataset.event = item.event;
          li.dataset.id = item.id;
          li.textContent = `${item.event}  ${item.id || "(no id)"}${retry !== null && item.event === "data" ? `  retry ${retry} ms` : ""}  ${detail}`;
          log.append(li);
          log.scrollTop = log.scrollHeight;
        }
      }
    }
  } catch (err) {
    if (err.name !== "AbortError") logItem(log, `stream failed: ${err.message}`, "error");
  } finally {
    parser.free();
  }
});

// ----------------------------------------------------------- performance run
let perf = null;
$("perf-run").addEventListener("click", () => {
  perf?.close();
  perf?.free();
  const count = Math.max(1, Math.min(1000000, Number($("perf-count").value) || 1000));
  const progress = $("perf-progress");
  progress.max = count;
  progress.value = 0;
  for (const id of ["perf-server-rate", "perf-server-avg", "perf-client-rate", "perf-latency"]) $(id).textContent = "…";
  let received = 0;
  let latency = 0;
  let first = 0;
  perf = new SseClient(`/sse/perf?count=${count}&interval_ms=0`, { maxReconnectAttempts: 0 });
  perf.on("perf", (p) => {
    const now = Date.now();
    if (received === 0) first = performance.now();
    received += 1;
    latency += now - p.timestamp;
    if (received % 250 === 0 || received === count) progress.value = received;
  });
  perf.on("summary", (s) => {
    const elapsed = (performance.now() - first) / 1000;
    $("perf-server-rate").textContent = fmtInt.format(s.events_per_second);
    $("perf-server-avg").textContent = `${fmt.format(s.average_event_time_us)} µs`;
    $("perf-client-rate").textContent = fmtInt.format(elapsed > 0 ? received / elapsed : received);
    $("perf-latency").textContent = ms(latency / Math.max(1, received));
    progress.value = received;
  });
  perf.connect();
});

// ------------------------------------------------------------ SSE vs polling
$("cmp-poll").textContent = `${config.pollMs / 1000} s`;
let seq = 0;
async function publish(topic, body) {
  const headers = { "content-type": "application/json" };
  // With private topics on, publishing needs a token too (the demo user's may publish anywhere).
  if (demoTokens) headers.authorization = `Bearer ${await publisherToken()}`;
  const res = await fetch(`/api/topics/${encodeURIComponent(topic)}`, { method: "POST", headers, body: JSON.stringify(body) });
  return { ok: res.ok, status: res.status, body: await res.json() };
}
setInterval(() => {
  if ($("cmp-auto").checked) publish(COMPARE_TOPIC, { event: COMPARE_TOPIC, data: { seq: seq++, sent_at: Date.now() } }).catch(() => {});
}, 1000);

let pollAfter = null;
async function poll() {
  // The first poll only learns the current position (limit=1, not counted).
  const url = pollAfter
    ? `/api/topics/${COMPARE_TOPIC}/events?limit=1000&after=${encodeURIComponent(pollAfter)}`
    : `/api/topics/${COMPARE_TOPIC}/events?limit=1`;
  try {
    const res = await fetch(url, { cache: "no-store" });
    $("node").textContent = res.headers.get("x-pushwire-node") || "?";
    const text = await res.text();
    const body = JSON.parse(text);
    const now = Date.now();
    const c = compare.poll;
    c.requests += 1;
    const timing = performance.getEntriesByName(new URL(url, location.href).href).pop();
    c.bytes += timing && timing.transferSize > 0 ? timing.transferSize : text.length;
    if (pollAfter !== null) {
      for (const e of body.events) {
        const delay = now - e.data.sent_at;
        c.count += 1;
        c.delay += delay;
        c.max = Math.max(c.max, delay);
      }
    }
    pollAfter = body.last_id;
    renderCompare();
  } catch {
    // The server is away; the next poll tries again.
  } finally {
    performance.clearResourceTimings();
  }
}
setInterval(poll, config.pollMs);
poll();

function renderCompare() {
  const { sse, poll: p } = compare;
  $("cmp-sse-count").textContent = fmtInt.format(sse.count);
  $("cmp-poll-count").textContent = fmtInt.format(p.count);
  $("cmp-sse-delay").textContent = sse.count ? ms(sse.delay / sse.count) : "—";
  $("cmp-poll-delay").textContent = p.count ? ms(p.delay / p.count) : "—";
  $("cmp-sse-max").textContent = sse.count ? ms(sse.max) : "—";
  $("cmp-poll-max").textContent = p.count ? ms(p.max) : "—";
  $("cmp-sse-bytes").textContent = bytes(sse.bytes);
  $("cmp-poll-bytes").textContent = bytes(p.bytes);
  $("cmp-sse-requests").textContent = fmtInt.format(1 + (main ? main.stats.reconnects : 0));
  $("cmp-poll-requests").textContent = fmtInt.format(p.requests);
}

// ------------------------------------------------------------------- publish
$("pub-topic").value = config.topic;
$("pub-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = $("pub-result");
  let data;
  try {
    data = JSON.parse($("pub-data").value);
  } catch (err) {
    result.textContent = `Data is not valid JSON: ${err.message}`;
    result.className = "small error";
    return;
  }
  const name = $("pub-event").value || "message";
  listen(name);
  try {
    const res = await publish($("pub-topic").value, { event: name, data });
    result.textContent = res.ok ? `Published as ${res.body.id}` : `Error ${res.status}: ${res.body.error}`;
    result.className = res.ok ? "small" : "small error";
  } catch (err) {
    result.textContent = `Could not reach the server: ${err.message}`;
    result.className = "small error";
  }
});

// ------------------------------------------------------------- private topic
const PRIVATE_TOPIC = "private.demo.inbox";
const priv = { client: null, tokens: 0, expiresAt: 0, count: 0, last: -1, gaps: 0, dups: 0, seq: 0, ticker: null };
let cachedPublisher = { token: "", expiresAt: 0 };

/** A fresh token of the demo user, minted by the server. */
async function mintToken() {
  const res = await fetch("/demo/token", { method: "POST", cache: "no-store" });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error);
  return { token: body.token, expiresAt: Date.now() + body.expires_in_ms };
}

/** The page's own publishing token, reused while it has a second left. */
async function publisherToken() {
  if (cachedPublisher.expiresAt - Date.now() < 1000) cachedPublisher = await mintToken();
  return cachedPublisher.token;
}

/** The private client's getToken: counted, so the panel shows each renewal. */
async function getToken() {
  const { token, expiresAt } = await mintToken();
  priv.tokens += 1;
  priv.expiresAt = expiresAt;
  renderPrivate();
  return token;
}

function renderPrivate() {
  $("priv-count").textContent = fmtInt.format(priv.count);
  $("priv-tokens").textContent = fmtInt.format(priv.tokens);
  $("priv-gaps").textContent = `${priv.gaps} / ${priv.dups}`;
  const left = priv.expiresAt - Date.now();
  $("priv-expires").textContent = priv.expiresAt ? `${fmt.format(Math.max(0, left) / 1000)} s` : "—";
}

/** (Re)connects the private client with the chosen transport, resuming after the last id. */
function connectPrivate() {
  const lastEventId = priv.client?.lastEventId;
  priv.client?.close();
  priv.client?.free();
  const transport = document.querySelector("input[name=priv-transport]:checked").value;
  const client = new SseClient(`/sse/subscribe?topic=${PRIVATE_TOPIC}`, {
    transport,
    getToken,
    reconnectInterval: config.reconnectInterval,
    maxReconnectAttempts: config.maxReconnectAttempts,
    ...(lastEventId ? { lastEventId } : {}),
  });
  client.on("state", (s) => ($("priv-state").textContent = s));
  client.on("note", ({ seq }) => {
    if (seq <= priv.last) priv.dups += 1;
    else priv.gaps += seq - priv.last - 1;
    priv.last = Math.max(priv.last, seq);
    priv.count += 1;
    renderPrivate();
  });
  client.on("auth-error", ({ status, message }) => ($("priv-status").textContent = `refused (${status}): ${message}`));
  client.on("reset", (r) => ($("priv-status").textContent = `reset: ${r.message}`));
  // The page publishes a numbered note a second once the first connection is open.
  client.on("open", () => {
    priv.ticker ??= setInterval(() => {
      publish(PRIVATE_TOPIC, { event: "note", data: { seq: priv.seq++ } }).catch(() => {});
    }, 1000);
  });
  priv.client = client;
  client.connect();
}

if (demoTokens) {
  document.querySelectorAll("input[name=priv-transport]").forEach((r) => r.addEventListener("change", connectPrivate));
  $("priv-anonymous").addEventListener("click", () => {
    const anonymous = new SseClient(`/sse/subscribe?topic=${PRIVATE_TOPIC}`, { maxReconnectAttempts: 0 });
    anonymous.on("auth-error", ({ status, message }) => {
      $("priv-status").textContent = `without a token: refused (${status}): ${message}`;
      anonymous.close();
      anonymous.free();
    });
    anonymous.connect();
  });
  setInterval(renderPrivate, 250);
  connectPrivate();
} else {
  $("priv-off").hidden = false;
  for (const el of $("priv").querySelectorAll("input, button")) el.disabled = true;
}

connectMain(undefined);
startCounter();
monitoring.connect();
// For the curious (and the end-to-end tests): the live clients.
window.pushwireDemo = { get main() { return main; }, monitoring, get counter() { return counter; }, get private() { return priv; } };
document.body.dataset.ready = "true";
