//! The package's TypeScript declarations, written out precisely (options,
//! built-in event payloads, the protocol's event types as interfaces) and
//! emitted into the `.d.ts` by wasm-bindgen. The options interface comes
//! from the options table and the reset reasons from the protocol, so they
//! cannot drift from the code.

use pushwire_protocol::ResetReason;
use wasm_bindgen::prelude::*;

use crate::const_str::{const_concat, quoted_union};
use crate::options::TS_OPTIONS;

/// The reset reasons as a union of string literals.
const RESET_REASONS: &str = {
    const N: usize = ResetReason::ALL.len();
    const NAMES: [&str; N] = {
        let mut names = [""; N];
        let mut i = 0;
        while i < N {
            names[i] = ResetReason::ALL[i].as_str();
            i += 1;
        }
        names
    };
    const_concat!(parts = &quoted_union::<N, { 4 * N - 1 }>(NAMES))
};

/// Every declaration of the package that wasm-bindgen does not write.
// Read only by the custom section wasm-bindgen generates (for wasm), which
// the dead-code lint does not follow.
#[allow(dead_code)]
const DECLARATIONS: &str = const_concat!(
    TS_OPTIONS,
    r#"
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed" | "failed";

export interface ClientStats {
  eventsReceived: number;
  parseErrors: number;
  reconnects: number;
  lastEventId: string | null;
}

export interface ErrorInfo { message: string }
export interface ReconnectingInfo { attempt: number; delayMs: number }
export interface MaxReconnectInfo { attempts: number }
export interface ParseErrorInfo { event: string; data: string; error: string }
/**
 * The server refused the credentials. 401: no valid token (the next attempt
 * asks getToken again); 403: the token lacks the grant (state "failed").
 */
export interface AuthErrorInfo { status: 401 | 403; message: string }
/** Sent by the server instead of a silent gap: events may have been missed. */
export interface Reset { reason: "#,
    RESET_REASONS,
    r#"; message: string; last_event_id: string }
/** Sent by the server when a finite stream is complete; the client closes. */
export interface End { reason: string }

export interface Connection { message: string; timestamp: number }
export interface DemoData { timestamp: number; value: number; status: string }
export interface Close { message: string; timestamp: number }
export interface PerformanceData { sequence: number; timestamp: number; client_id: string }
export interface PerformanceSummary { total_events: number; total_time_ms: number; average_event_time_us: number; events_per_second: number }
export interface MonitoringData { timestamp: number; cpu_usage: number; memory_usage: number; network_io: number; active_connections: number; response_time_ms: number }

/** Where a server event came from. */
export interface EventMeta { event: string; lastEventId: string }

/** Built-in events and their payloads. */
export interface ClientEventMap {
  open: undefined;
  error: ErrorInfo;
  "auth-error": AuthErrorInfo;
  reconnecting: ReconnectingInfo;
  "max-reconnect-reached": MaxReconnectInfo;
  "parse-error": ParseErrorInfo;
  reset: Reset;
  end: End;
  state: ConnectionState;
}

/** Server events of pushwire's demo streams and their decoded data. */
export interface ServerEventMap {
  message: unknown;
  connection: Connection;
  data: DemoData;
  close: Close;
  perf: PerformanceData;
  summary: PerformanceSummary;
  monitoring: MonitoringData;
}

/** One item of a parsed stream. */
export type SseItem =
  | { type: "event"; event: string; data: string; id: string }
  | { type: "retry"; retry: number }
  | { type: "comment"; text: string };

/**
 * The spec-exact incremental SSE parser, for streams read with fetch():
 * it shows what EventSource hides (retry, comments, id-only frames).
 */
export class SseParser {
  free(): void;
  constructor();
  /** Parses the next chunk (split anywhere); returns the items it completed. */
  feed(chunk: Uint8Array): SseItem[];
  /** The last event id so far. */
  readonly lastEventId: string;
  /** Ends the stream; an unfinished event is discarded. */
  finish(): void;
}

/** Removes the handler it was returned for. */
export type Unsubscribe = () => void;

/** Live browser resources of all clients, for leak checks. */
export interface LiveCounts { listeners: number; timers: number; clients: number }
export function liveCounts(): LiveCounts;

/**
 * A typed Server-Sent Events client: wraps EventSource, decodes JSON, and
 * reconnects on a capped, jittered backoff, resuming by event id.
 */
export class SseClient {
  free(): void;
  constructor(url: string, options?: SseClientOptions);
  on<K extends keyof ClientEventMap>(event: K, handler: (payload: ClientEventMap[K]) => void): Unsubscribe;
  on<K extends keyof ServerEventMap>(event: K, handler: (data: ServerEventMap[K], meta: EventMeta) => void): Unsubscribe;
  on<T = unknown>(event: string, handler: (data: T, meta: EventMeta) => void): Unsubscribe;
  connect(): void;
  close(): void;
  readonly state: ConnectionState;
  readonly stats: ClientStats;
  readonly lastEventId: string | undefined;
  readonly url: string;
}
"#,
);

#[wasm_bindgen(typescript_custom_section)]
const TS: &'static str = DECLARATIONS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declarations_name_every_reset_reason_and_option() {
        assert!(DECLARATIONS.contains(
            r#"export interface Reset { reason: "unknown_epoch" | "malformed" | "too_old" | "future"; message: string; last_event_id: string }"#
        ));
        assert!(DECLARATIONS.starts_with("/** Options of an SseClient"));
        assert!(DECLARATIONS.contains("export interface SseClientOptions {\n  /**"));
        assert!(DECLARATIONS.contains("\nexport class SseClient {"));
    }
}
