/* tslint:disable */
/* eslint-disable */
/** Options of an SseClient; every field is optional. */
export interface SseClientOptions {
    /** Send cookies cross-origin (EventSource's `withCredentials`). Default false. */
    withCredentials?: boolean;
    /** Consecutive failed attempts before giving up in state "failed". Default 5. */
    maxReconnectAttempts?: number;
    /** First reconnect delay ceiling (in ms in JavaScript). Default 3000. */
    reconnectInterval?: number;
    /** Largest reconnect delay ceiling (in ms in JavaScript). Default 30000. */
    maxReconnectInterval?: number;
    /** Growth of the delay ceiling per attempt (at least 1). Default 2. */
    backoffMultiplier?: number;
    /** "full": delay uniform between 0 and the ceiling; "none": exactly the ceiling. Default "full". */
    jitter?: "full" | "none";
    /** Query parameter carrying the last event id on reconnects. Default "lastEventId". */
    lastEventIdParam?: string;
    /** Resume after this id on the first connect, e.g. after a page reload. */
    lastEventId?: string;
    /** Deliver data to JavaScript handlers as strings, without JSON decoding. Default false. */
    raw?: boolean;
    /** Reconnect at once when the browser comes back online. Default false. */
    reconnectOnOnline?: boolean;
    /** Close while the tab is hidden, resume by id when visible. Default false. */
    pauseWhenHidden?: boolean;
    /** How the stream is read: "eventsource" (the browser's EventSource: cookies, and tokens traded for tickets) or "fetch" (a streaming fetch that sends the token as `Authorization: Bearer`). Default "eventsource". */
    transport?: "eventsource" | "fetch";
    /** Called before every connect and when the server says the token expired; returns the token (null: none), or a promise of it. With "eventsource" the client trades it for a single-use ticket. */
    getToken?: () => string | null | undefined | Promise<string | null | undefined>;
    /** Where a token is traded for a ticket (transport "eventsource"), relative to the stream's URL. Default "/api/tickets". */
    ticketUrl?: string;
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
/**
 * The server refused the credentials. 401: no valid token (the next attempt
 * asks getToken again); 403: the token lacks the grant (state "failed").
 */
export interface AuthErrorInfo { status: 401 | 403; message: string }
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



export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_handlerhandle_free: (a: number, b: number) => void;
    readonly __wbg_sseclient_free: (a: number, b: number) => void;
    readonly __wbg_sseparser_free: (a: number, b: number) => void;
    readonly handlerhandle_remove: (a: number) => void;
    readonly liveCounts: () => any;
    readonly sseclient_close: (a: number) => void;
    readonly sseclient_connect: (a: number) => void;
    readonly sseclient_lastEventId: (a: number) => [number, number];
    readonly sseclient_new: (a: number, b: number, c: any) => [number, number, number];
    readonly sseclient_on: (a: number, b: number, c: number, d: any) => any;
    readonly sseclient_state: (a: number) => [number, number];
    readonly sseclient_stats: (a: number) => any;
    readonly sseclient_url: (a: number) => [number, number];
    readonly sseparser_feed: (a: number, b: any) => any;
    readonly sseparser_finish: (a: number) => void;
    readonly sseparser_lastEventId: (a: number) => [number, number];
    readonly sseparser_new: () => number;
    readonly wasm_bindgen__convert__closures_____invoke__h174b23647d5a97f9: (a: number, b: number, c: any) => any;
    readonly wasm_bindgen__convert__closures_____invoke__h4785f82ebac66ac6: (a: number, b: number, c: any) => void;
    readonly wasm_bindgen__convert__closures_____invoke__h47c44706d67bf320: (a: number, b: number, c: any) => void;
    readonly wasm_bindgen__convert__closures_____invoke__hc318e63f21e33bea: (a: number, b: number) => void;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_destroy_closure: (a: number, b: number) => void;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
