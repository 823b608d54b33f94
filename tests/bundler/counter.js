// Connects to /sse/counter on the server named by ?server= (default: this
// origin) and records what arrives in `window.received`; the body gets
// data-done once the stream's `end` arrives.
export function countTo3(SseClient) {
  const server = new URLSearchParams(location.search).get("server") ?? "";
  const received = (window.received = { events: [], end: null, errors: [] });
  const client = new SseClient(`${server}/sse/counter?count=3&interval_ms=0`, { maxReconnectAttempts: 0 });
  client.on("message", (data, meta) => received.events.push({ data, id: meta.lastEventId }));
  client.on("error", (e) => received.errors.push(e.message));
  client.on("end", (end) => {
    received.end = end;
    document.body.dataset.done = "true";
  });
  client.connect();
}
