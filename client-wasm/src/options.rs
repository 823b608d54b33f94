//! `ClientOptions`: everything a client can be configured with, shared by
//! the Rust builder and the JavaScript options object.

use std::time::Duration;

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::policy::{Jitter, ReconnectPolicy};

/// Default name of the query parameter carrying the last event id.
pub const DEFAULT_LAST_EVENT_ID_PARAM: &str = "lastEventId";
/// Default capacity of a typed event stream before it reports lag.
pub const DEFAULT_STREAM_CAPACITY: usize = 1024;

/// Client configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// Send cookies cross-origin (`EventSource`'s `withCredentials`).
    pub with_credentials: bool,
    /// Reconnect delays and the give-up point.
    pub reconnect: ReconnectPolicy,
    /// Query parameter that carries the last event id on reconnects.
    pub last_event_id_param: String,
    /// Resume after this id on the first connect (e.g. after a page reload).
    pub last_event_id: Option<String>,
    /// Deliver data as strings, without JSON decoding.
    pub raw: bool,
    /// Reconnect at once when the browser comes back online.
    pub reconnect_on_online: bool,
    /// Close while the tab is hidden; resume by id when it is visible again.
    pub pause_when_hidden: bool,
    /// Capacity of each typed event stream.
    pub stream_capacity: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            with_credentials: false,
            reconnect: ReconnectPolicy::default(),
            last_event_id_param: DEFAULT_LAST_EVENT_ID_PARAM.to_owned(),
            last_event_id: None,
            raw: false,
            reconnect_on_online: false,
            pause_when_hidden: false,
            stream_capacity: DEFAULT_STREAM_CAPACITY,
        }
    }
}

/// Every option name the JavaScript options object may hold.
pub(crate) const JS_OPTION_NAMES: [&str; 11] = [
    "withCredentials",
    "maxReconnectAttempts",
    "reconnectInterval",
    "maxReconnectInterval",
    "backoffMultiplier",
    "jitter",
    "lastEventIdParam",
    "lastEventId",
    "raw",
    "reconnectOnOnline",
    "pauseWhenHidden",
];

/// The JavaScript options object; every field optional.
#[derive(Debug, Default)]
pub(crate) struct JsOptions {
    with_credentials: Option<bool>,
    max_reconnect_attempts: Option<u32>,
    reconnect_interval: Option<f64>,
    max_reconnect_interval: Option<f64>,
    backoff_multiplier: Option<f64>,
    jitter: Option<String>,
    last_event_id_param: Option<String>,
    last_event_id: Option<String>,
    raw: Option<bool>,
    reconnect_on_online: Option<bool>,
    pause_when_hidden: Option<bool>,
}

fn millis(name: &str, value: f64) -> Result<Duration, String> {
    if value.is_finite() && value >= 0.0 {
        Ok(Duration::from_secs_f64(value / 1000.0))
    } else {
        Err(format!(
            "{name} must be a non-negative number of milliseconds"
        ))
    }
}

fn field(obj: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn boolean(obj: &JsValue, key: &str) -> Result<Option<bool>, String> {
    field(obj, key)
        .map(|v| {
            v.as_bool()
                .ok_or_else(|| format!("{key} must be a boolean"))
        })
        .transpose()
}

fn number(obj: &JsValue, key: &str) -> Result<Option<f64>, String> {
    field(obj, key)
        .map(|v| v.as_f64().ok_or_else(|| format!("{key} must be a number")))
        .transpose()
}

fn string(obj: &JsValue, key: &str) -> Result<Option<String>, String> {
    field(obj, key)
        .map(|v| {
            v.as_string()
                .ok_or_else(|| format!("{key} must be a string"))
        })
        .transpose()
}

impl JsOptions {
    /// Reads the options object, checking each field's type. Written by
    /// hand rather than with serde: it keeps the wasm binary small.
    pub(crate) fn from_js(obj: &JsValue) -> Result<JsOptions, String> {
        let attempts = number(obj, "maxReconnectAttempts")?;
        if let Some(n) = attempts {
            if !(n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n)) {
                return Err("maxReconnectAttempts must be a whole number from 0".into());
            }
        }
        Ok(JsOptions {
            with_credentials: boolean(obj, "withCredentials")?,
            max_reconnect_attempts: attempts.map(|n| n as u32),
            reconnect_interval: number(obj, "reconnectInterval")?,
            max_reconnect_interval: number(obj, "maxReconnectInterval")?,
            backoff_multiplier: number(obj, "backoffMultiplier")?,
            jitter: string(obj, "jitter")?,
            last_event_id_param: string(obj, "lastEventIdParam")?,
            last_event_id: string(obj, "lastEventId")?,
            raw: boolean(obj, "raw")?,
            reconnect_on_online: boolean(obj, "reconnectOnOnline")?,
            pause_when_hidden: boolean(obj, "pauseWhenHidden")?,
        })
    }

    /// Validates and converts to [`ClientOptions`].
    pub(crate) fn into_options(self) -> Result<ClientOptions, String> {
        let mut o = ClientOptions::default();
        if let Some(v) = self.with_credentials {
            o.with_credentials = v;
        }
        if let Some(v) = self.max_reconnect_attempts {
            o.reconnect.max_attempts = v;
        }
        if let Some(v) = self.reconnect_interval {
            o.reconnect.initial = millis("reconnectInterval", v)?;
        }
        if let Some(v) = self.max_reconnect_interval {
            o.reconnect.max = millis("maxReconnectInterval", v)?;
        }
        if let Some(v) = self.backoff_multiplier {
            if !(v.is_finite() && v >= 1.0) {
                return Err("backoffMultiplier must be a number of at least 1".into());
            }
            o.reconnect.multiplier = v;
        }
        match self.jitter.as_deref() {
            None | Some("full") => o.reconnect.jitter = Jitter::Full,
            Some("none") => o.reconnect.jitter = Jitter::None,
            Some(other) => {
                return Err(format!(
                    "jitter must be \"full\" or \"none\", not \"{other}\""
                ))
            }
        }
        if let Some(v) = self.last_event_id_param {
            if v.is_empty() {
                return Err("lastEventIdParam must not be empty".into());
            }
            o.last_event_id_param = v;
        }
        o.last_event_id = self.last_event_id.filter(|id| !id.is_empty());
        o.raw = self.raw.unwrap_or(false);
        o.reconnect_on_online = self.reconnect_on_online.unwrap_or(false);
        o.pause_when_hidden = self.pause_when_hidden.unwrap_or(false);
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_validates_js_options() {
        let o = JsOptions {
            max_reconnect_attempts: Some(10),
            reconnect_interval: Some(2000.0),
            jitter: Some("none".into()),
            ..JsOptions::default()
        }
        .into_options()
        .unwrap();
        assert_eq!(o.reconnect.max_attempts, 10);
        assert_eq!(o.reconnect.initial, Duration::from_millis(2000));
        assert_eq!(o.reconnect.jitter, Jitter::None);
        assert_eq!(o.last_event_id_param, "lastEventId");
        let bad = JsOptions {
            reconnect_interval: Some(-1.0),
            ..JsOptions::default()
        };
        assert!(bad.into_options().is_err());
        let bad = JsOptions {
            backoff_multiplier: Some(0.5),
            ..JsOptions::default()
        };
        assert!(bad.into_options().is_err());
        let bad = JsOptions {
            jitter: Some("some".into()),
            ..JsOptions::default()
        };
        assert!(bad.into_options().is_err());
    }
}
