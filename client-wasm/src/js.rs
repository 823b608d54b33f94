//! The JavaScript face: `SseClient` as exported to JS, with a hand-written,
//! precise TypeScript declaration (options, built-in event payloads and the
//! protocol's event types as interfaces).

use std::cell::RefCell;
use std::rc::Weak;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::client::{HandlerId, Inner, SseClient};
use pushwire_protocol::{End, Reset, ResetReason};

use crate::events::{ClientEvent, ParseError, ServerEvent};
use crate::options::{JsOptions, JS_OPTION_NAMES};

#[wasm_bindgen(typescript_custom_section)]
const TS: &'static str = r#"
/** Options of an SseClient; every field is optional. */
export interface SseClientOptions {
  /** Send cookies cross-origin (EventSource's withCredentials). Default false. */
  withCredentials?: boolean;
  /** Consecutive failed attempts before giving up in state "failed". Default 5. */
  maxReconnectAttempts?: number;
  /** First reconnect delay ceiling in ms. Default 3000. */
  reconnectInterval?: number;
  /** Largest reconnect delay ceiling in ms. Default 30000. */
  maxReconnectInterval?: number;
  /** Growth of the delay ceiling per attempt (at least 1). Default 2. */
  backoffMultiplier?: number;
  /** "full": delay uniform in [0, ceiling] (default); "none": exactly the ceiling. */
  jitter?: "full" | "none";
  /** Query parameter carrying the last event id on reconnects. Default "lastEventId". */
  lastEventIdParam?: string;
  /** Resume after this id on the first connect, e.g. after a page reload. */
  lastEventId?: string;
  /** Deliver data as strings, without JSON decoding. Default false. */
  raw?: boolean;
  /** Reconnect at once when the browser comes back online. Default false. */
  reconnectOnOnline?: boolean;
  /** Close while the tab is hidden, resume by id when visible. Default false. */
  pauseWhenHidden?: boolean;
}

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
/** Sent by the server instead of a silent gap: events may have been missed. */
export interface Reset { reason: "unknown_epoch" | "malformed" | "too_old" | "future"; message: string; last_event_id: string }
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
"#;

#[wasm_bindgen(inline_js = r#"
export function remover(handle) { return () => handle.remove(); }
export function deliver(handlers, data, event, lastEventId, raw, token) {
  let value = data;
  if (!raw) {
    try { value = JSON.parse(data); } catch (e) { return String((e && e.message) || e); }
  }
  const meta = { event, lastEventId };
  for (let i = 0; i < handlers.length; i++) {
    if (token.closed) break;
    try { handlers[i](value, meta); } catch (e) { console.error("pushwire-client: a handler threw", e); }
  }
  return undefined;
}
"#)]
extern "C" {
    fn remover(handle: HandlerHandle) -> js_sys::Function;
    /// Parses `data` once and calls each handler with it and the event's
    /// meta, stopping if the client closes meanwhile; the parse error, if any.
    pub(crate) fn deliver(
        handlers: &js_sys::Array,
        data: &JsValue,
        event: &str,
        last_event_id: &str,
        raw: bool,
        token: &Object,
    ) -> Option<String>;
}

/// The JS `SseClient`.
#[wasm_bindgen(js_name = SseClient, skip_typescript)]
#[derive(Debug)]
pub struct JsSseClient {
    client: SseClient,
}

impl Drop for JsSseClient {
    /// Freed (explicitly, or by the garbage collector) while connected: like
    /// a native EventSource the connection goes on until it closes, ends or
    /// gives up. `close()` first to stop it.
    fn drop(&mut self) {
        self.client.detach();
    }
}

/// Removes one handler; wrapped in the function `on` returns.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct HandlerHandle {
    client: Weak<RefCell<Inner>>,
    id: HandlerId,
}

#[wasm_bindgen]
impl HandlerHandle {
    /// Removes the handler (again: no effect).
    pub fn remove(&self) {
        crate::client::remove_handler_weak(&self.client, self.id);
    }
}

#[wasm_bindgen(js_class = SseClient)]
impl JsSseClient {
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, options: JsValue) -> Result<JsSseClient, JsError> {
        let js_options: JsOptions = if options.is_undefined() || options.is_null() {
            JsOptions::default()
        } else {
            // A misspelt option must not be silently ignored.
            if let Some(obj) = options.dyn_ref::<Object>() {
                for key in Object::keys(obj).iter() {
                    let key = key.as_string().unwrap_or_default();
                    if !JS_OPTION_NAMES.contains(&key.as_str()) {
                        return Err(JsError::new(&format!(
                            "unknown option \"{key}\"; known options: {}",
                            JS_OPTION_NAMES.join(", ")
                        )));
                    }
                }
            }
            JsOptions::from_js(&options).map_err(|e| JsError::new(&e))?
        };
        let options = js_options.into_options().map_err(|e| JsError::new(&e))?;
        let client = SseClient::new(url, options).map_err(|e| JsError::new(&e.0))?;
        Ok(JsSseClient { client })
    }

    pub fn on(&self, event: &str, handler: js_sys::Function) -> js_sys::Function {
        let id = self.client.on_js(event, handler);
        remover(HandlerHandle {
            client: self.client.downgrade(),
            id,
        })
    }

    pub fn connect(&self) {
        self.client.connect();
    }

    pub fn close(&self) {
        self.client.close();
    }

    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.client.state().as_str().to_owned()
    }

    #[wasm_bindgen(getter)]
    pub fn stats(&self) -> JsValue {
        let s = self.client.stats();
        object(&[
            (
                "eventsReceived",
                JsValue::from_f64(s.events_received as f64),
            ),
            ("parseErrors", JsValue::from_f64(s.parse_errors as f64)),
            ("reconnects", JsValue::from_f64(s.reconnects as f64)),
            (
                "lastEventId",
                s.last_event_id
                    .map_or(JsValue::NULL, |id| JsValue::from_str(&id)),
            ),
        ])
    }

    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> Option<String> {
        self.client.last_event_id()
    }

    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.client.url()
    }
}

/// Live browser resources of all clients.
#[wasm_bindgen(js_name = liveCounts, skip_typescript)]
pub fn live_counts_js() -> JsValue {
    let c = crate::listener::live_counts();
    object(&[
        ("listeners", JsValue::from_f64(c.listeners as f64)),
        ("timers", JsValue::from_f64(c.timers as f64)),
        ("clients", JsValue::from_f64(c.clients as f64)),
    ])
}

fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (key, value) in entries {
        let _ = Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj.into()
}

/// The payload a JS handler of a built-in event receives.
pub(crate) fn client_event_payload(event: &ClientEvent) -> JsValue {
    match event {
        ClientEvent::Open => JsValue::UNDEFINED,
        ClientEvent::Error { message } => object(&[("message", JsValue::from_str(message))]),
        ClientEvent::Reconnecting { attempt, delay_ms } => object(&[
            ("attempt", JsValue::from(*attempt)),
            ("delayMs", JsValue::from(*delay_ms)),
        ]),
        ClientEvent::MaxReconnectReached { attempts } => {
            object(&[("attempts", JsValue::from(*attempts))])
        }
        ClientEvent::ParseError(e) => object(&[
            ("event", JsValue::from_str(&e.event)),
            ("data", JsValue::from_str(&e.data)),
            ("error", JsValue::from_str(&e.error)),
        ]),
        ClientEvent::Reset(r) => object(&[
            ("reason", JsValue::from_str(reset_reason_name(r.reason))),
            ("message", JsValue::from_str(&r.message)),
            ("last_event_id", JsValue::from_str(&r.last_event_id)),
        ]),
        ClientEvent::End(e) => object(&[("reason", JsValue::from_str(&e.reason))]),
        ClientEvent::State(s) => JsValue::from_str(s.as_str()),
    }
}

fn reset_reason_name(reason: ResetReason) -> &'static str {
    match reason {
        ResetReason::UnknownEpoch => "unknown_epoch",
        ResetReason::Malformed => "malformed",
        ResetReason::TooOld => "too_old",
        ResetReason::Future => "future",
    }
}

fn parse_object(event: &ServerEvent) -> Result<JsValue, ParseError> {
    let value = js_sys::JSON::parse(&event.data).map_err(|_| event.parse_error("invalid JSON"))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(event.parse_error("expected a JSON object"))
    }
}

fn string_field(obj: &JsValue, key: &str) -> Option<String> {
    Reflect::get(obj, &JsValue::from_str(key)).ok()?.as_string()
}

/// Decodes the server's `pushwire.reset` data (through the browser's
/// JSON parser, keeping serde_json out of the wasm binary).
pub(crate) fn decode_reset(event: &ServerEvent) -> Result<Reset, ParseError> {
    let obj = parse_object(event)?;
    let reason = match string_field(&obj, "reason").as_deref() {
        Some("unknown_epoch") => ResetReason::UnknownEpoch,
        Some("malformed") => ResetReason::Malformed,
        Some("too_old") => ResetReason::TooOld,
        Some("future") => ResetReason::Future,
        _ => return Err(event.parse_error("unknown reset reason")),
    };
    Ok(Reset {
        reason,
        message: string_field(&obj, "message").unwrap_or_default(),
        last_event_id: string_field(&obj, "last_event_id").unwrap_or_default(),
    })
}

/// Decodes the server's `pushwire.end` data; an undecodable one still ends.
pub(crate) fn decode_end(event: &ServerEvent) -> End {
    let reason = parse_object(event)
        .ok()
        .and_then(|obj| string_field(&obj, "reason"))
        .unwrap_or_else(|| "complete".into());
    End { reason }
}
