//! Decoding the server's control events, `pushwire.reset` and
//! `pushwire.end`, through the browser's JSON parser (keeping serde_json
//! out of the wasm binary).

use js_sys::Reflect;
use pushwire_protocol::names::END_COMPLETE;
use pushwire_protocol::{End, Reset, ResetReason};
use wasm_bindgen::JsValue;

use crate::events::{ParseError, ServerEvent};

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

/// Decodes the data of a `pushwire.reset`.
pub(crate) fn decode_reset(event: &ServerEvent) -> Result<Reset, ParseError> {
    let obj = parse_object(event)?;
    let reason = string_field(&obj, "reason")
        .as_deref()
        .and_then(ResetReason::from_wire)
        .ok_or_else(|| event.parse_error("unknown reset reason"))?;
    Ok(Reset {
        reason,
        message: string_field(&obj, "message").unwrap_or_default(),
        last_event_id: string_field(&obj, "last_event_id").unwrap_or_default(),
    })
}

/// Decodes the data of a `pushwire.end`; an undecodable one still ends.
pub(crate) fn decode_end(event: &ServerEvent) -> End {
    let reason = parse_object(event)
        .ok()
        .and_then(|obj| string_field(&obj, "reason"))
        .unwrap_or_else(|| END_COMPLETE.into());
    End { reason }
}
