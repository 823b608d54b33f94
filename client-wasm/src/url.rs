//! URLs, with the browser's `URL` parser (through one small inline module
//! rather than web-sys's bindings of `URL`, `URLSearchParams` and
//! `Location`, which cost more glue than the calls themselves).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function resolve(url, base) {
  try {
    return new URL(url, base || (typeof location === "undefined" ? undefined : location.href)).href;
  } catch (_) {
    return undefined;
  }
}
export function withParam(url, name, value) {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.href;
}
"#)]
extern "C" {
    /// `url` resolved against `base`, or else the page's location; `None`
    /// if it is not a valid URL.
    pub(crate) fn resolve(url: &str, base: Option<&str>) -> Option<String>;

    /// The absolute `url` with the query parameter `name` set to `value`
    /// (replacing any).
    #[wasm_bindgen(js_name = withParam)]
    fn with_param(url: &str, name: &str, value: &str) -> String;
}

/// The URL of one connection: `url` with the query parameters of `params`
/// whose value is given: the last event id, and for `EventSource` the
/// ticket.
pub(crate) fn stream_url(url: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut url = url.to_owned();
    for (name, value) in params {
        if let Some(value) = value {
            url = with_param(&url, name, value);
        }
    }
    url
}
