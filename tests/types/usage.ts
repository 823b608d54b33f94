// Type-checks the npm package's declarations as a TypeScript user would
// write against them (`tsc --noEmit`, run by `cargo xtask test`). Lines
// marked @ts-expect-error must fail to compile: the types are precise.
import init, { SseClient, SseParser, liveCounts } from "pushwire-client";
import type { AuthErrorInfo, ConnectionState, MonitoringData, Reset, SseClientOptions } from "pushwire-client";

export async function usage(): Promise<void> {
  await init();
  const options: SseClientOptions = { maxReconnectAttempts: 10, reconnectInterval: 2000, jitter: "full" };
  const client = new SseClient("/sse/monitoring", options);

  const off: () => void = client.on("monitoring", (m, meta) => {
    const cpu: number = m.cpu_usage;
    const id: string = meta.lastEventId;
    void cpu;
    void id;
  });
  off();
  client.on("reconnecting", ({ attempt, delayMs }) => void (attempt + delayMs));
  client.on("max-reconnect-reached", ({ attempts }) => void attempts.toFixed());
  client.on("parse-error", ({ event, data, error }) => void `${event}${data}${error}`);
  client.on("reset", (r: Reset) => void r.reason);
  client.on("state", (s: ConnectionState) => void s);
  client.on("data", (d) => void d.value.toFixed());
  client.on("summary", (s) => void s.events_per_second);
  client.on<{ text: string }>("chat", (c) => void c.text.toUpperCase());
  client.connect();
  const state: ConnectionState = client.state;
  const received: number = client.stats.eventsReceived;
  void state;
  void received;
  client.close();
  client.free();

  const sample: MonitoringData = { timestamp: 1, cpu_usage: 1, memory_usage: 1, network_io: 1, active_connections: 1, response_time_ms: 1 };
  void sample;
  const parser = new SseParser();
  for (const item of parser.feed(new Uint8Array())) {
    if (item.type === "retry") void item.retry.toFixed();
    if (item.type === "event") void item.data.length;
  }
  void liveCounts().listeners;

  // Private topics: a token from the app, through either transport.
  const getToken = async (): Promise<string> => (await fetch("/my-app/token")).text();
  const secured = new SseClient("/sse/subscribe?topic=user.42", { transport: "fetch", getToken, ticketUrl: "/api/tickets" });
  secured.on("auth-error", ({ status, message }: AuthErrorInfo) => void `${status === 403 ? "denied" : "retry"}${message}`);
  new SseClient("/x", { getToken: () => null });

  // @ts-expect-error: not a field of MonitoringData
  client.on("monitoring", (m) => void m.cpu);
  // @ts-expect-error: jitter is "full" or "none"
  new SseClient("/x", { jitter: "some" });
  // @ts-expect-error: transport is "eventsource" or "fetch"
  new SseClient("/x", { transport: "websocket" });
  // @ts-expect-error: getToken returns a token, not a number
  new SseClient("/x", { getToken: () => 42 });
  // @ts-expect-error: an unknown option
  new SseClient("/x", { maxReconectAttempts: 3 });
  // @ts-expect-error: state is read-only
  client.state = "open";
}
