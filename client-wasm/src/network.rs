//! The client's own HTTP requests, written in JavaScript (one small inline
//! module) because they are promise chains: the browser's `fetch` does the
//! work, and Rust only receives the outcome. Kept out of Rust to keep
//! wasm-bindgen-futures and its glue out of the package (about 0.6 KB
//! gzipped of JavaScript here against several KB of wasm).
//!
//! * [`authorize`]: asks the app's `getToken` for a token and, for
//!   `EventSource`, which cannot send headers, trades it for a single-use
//!   ticket at the server's ticket endpoint;
//! * [`fetch_source`]: the `fetch` transport, an `EventSource` look-alike
//!   whose body the protocol's parser reads;
//! * [`probe`]: what an `EventSource` refused before it opened hides — the
//!   status of the same request, asked once with `fetch`.
//!
//! A refusal is reported as `{ status, message }`, the message being the
//! server's JSON `error` (or the status text).

use wasm_bindgen::prelude::*;

use crate::events::AuthError;
use crate::machine::Input;

#[wasm_bindgen(inline_js = r#"
const refusal = async (r) => {
  let message = r.statusText;
  try { message = (await r.json()).error || message; } catch (_) {}
  return { status: r.status, message };
};
const headers = (token) => token ? { authorization: "Bearer " + token } : {};
const mode = (withCredentials) => withCredentials ? "include" : "same-origin";

export function authorize(getToken, ticketUrl, wantTicket, withCredentials, done) {
  Promise.resolve().then(() => getToken()).then(async (token) => {
    if (token == null || token === "") return [];
    token = String(token);
    if (!wantTicket) return [token];
    const r = await fetch(ticketUrl, { method: "POST", headers: headers(token), credentials: mode(withCredentials) });
    if (!r.ok) throw await refusal(r);
    return [token, String((await r.json()).ticket)];
  }).then(done, (e) => done(e == null ? "getToken failed" : e));
}

export function fetchSource(url, token, withCredentials, parse) {
  const source = new EventTarget();
  const controller = new AbortController();
  const signal = controller.signal;
  const fail = (e) => signal.aborted || source.dispatchEvent(Object.assign(new Event("error"), e));
  source.close = () => controller.abort();
  (async () => {
    try {
      const h = headers(token);
      h.accept = "text/event-stream";
      const r = await fetch(url, { headers: h, credentials: mode(withCredentials), cache: "no-store", signal });
      if (r.status !== 200 || !/^text\/event-stream/i.test(r.headers.get("content-type"))) return fail(await refusal(r));
      source.dispatchEvent(new Event("open"));
      for (const reader = r.body.getReader(); ;) {
        const { done, value } = await reader.read();
        if (done || signal.aborted) break;
        for (const item of parse(value)) {
          if (signal.aborted) return;
          if (item.type === "event") source.dispatchEvent(new MessageEvent(item.event, { data: item.data, lastEventId: item.id }));
        }
      }
      fail({ status: 0, message: "the server closed the stream" });
    } catch (e) {
      fail({ status: 0, message: String((e && e.message) || e) });
    }
  })();
  return source;
}

export function probe(url, token, withCredentials, done) {
  const controller = new AbortController();
  fetch(url, { headers: headers(token), credentials: mode(withCredentials), cache: "no-store", signal: controller.signal })
    .then((r) => r.status === 401 || r.status === 403 ? refusal(r) : null, () => null)
    .then((refused) => { controller.abort(); done(refused); });
}
"#)]
extern "C" {
    /// Calls `get_token` (it may return a value or a promise of one); with
    /// `want_ticket` trades the token for a ticket at `ticket_url`. Then
    /// calls `done` once, with `[token?, ticket?]`, a refusal, or what
    /// `get_token` threw.
    pub(crate) fn authorize(
        get_token: &js_sys::Function,
        ticket_url: &str,
        want_ticket: bool,
        with_credentials: bool,
        done: JsValue,
    );

    /// The `fetch` transport: an `EventTarget` that behaves as an
    /// `EventSource` does — `open`, then a `MessageEvent` per event that
    /// `parse(chunk)` (the protocol's parser) finds in the body, and
    /// `error` at the end; `close()` aborts it — except that it sends
    /// `token` as `Authorization: Bearer`, never reconnects by itself, and
    /// its `error` says why: `{ status, message }` (status 0 unless the
    /// server answered with something else than an event stream).
    #[wasm_bindgen(js_name = fetchSource)]
    pub(crate) fn fetch_source(
        url: &str,
        token: Option<&str>,
        with_credentials: bool,
        parse: &JsValue,
    ) -> web_sys::EventSource;

    /// Requests `url` as an `EventSource` would and calls `done(refusal)`
    /// once, with a refusal (401 or 403) or null.
    pub(crate) fn probe(url: &str, token: Option<&str>, with_credentials: bool, done: JsValue);
}

/// What a failed request means for the machine: an [`Input::AuthFailed`]
/// for a refusal `{ status: 401 | 403, message }`, else an
/// [`Input::ConnectionLost`] saying what went wrong.
pub(crate) fn failure(value: &JsValue) -> Input {
    let field = |key: &str| js_sys::Reflect::get(value, &JsValue::from_str(key)).ok();
    let message = field("message")
        .and_then(|m| m.as_string())
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "the request failed".into());
    match field("status").and_then(|s| s.as_f64()) {
        Some(status) if status == 401.0 || status == 403.0 => Input::AuthFailed(AuthError {
            status: status as u16,
            message,
        }),
        _ => Input::ConnectionLost { message },
    }
}

/// Whether a failure event says why (the `fetch` transport's do; the
/// browser's `EventSource`'s do not).
pub(crate) fn says_why(event: &JsValue) -> bool {
    js_sys::Reflect::has(event, &JsValue::from_str("status")).unwrap_or(false)
}
