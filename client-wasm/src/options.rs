//! `ClientOptions`: everything a client can be configured with, declared
//! once in the table at the end of this file. The table generates the
//! options struct and its defaults, the Rust builder's methods, the reader
//! of the JavaScript options object and the `SseClientOptions` TypeScript
//! interface, so the faces cannot drift apart.

use std::time::Duration;

use js_sys::{Object, Reflect};
use pushwire_protocol::names::{LAST_EVENT_ID_PARAM, TICKETS_PATH};
use wasm_bindgen::{JsCast, JsValue};

use crate::builder::SseClientBuilder;
use crate::const_str::const_concat;
use crate::policy::{
    Jitter, ReconnectPolicy, DEFAULT_BACKOFF_MULTIPLIER, DEFAULT_MAX_RECONNECT_ATTEMPTS,
    DEFAULT_MAX_RECONNECT_INTERVAL, DEFAULT_RECONNECT_INTERVAL,
};
use crate::token::TokenSource;
use crate::transport::Transport;

/// Default capacity of a typed event stream before it reports lag.
pub const DEFAULT_STREAM_CAPACITY: usize = 1024;

/// A value of the JavaScript options object, by type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsInput {
    Boolean(bool),
    Number(f64),
    String(String),
    Function(js_sys::Function),
    /// Anything else (an object, a symbol, …).
    Other,
}

impl From<&JsValue> for JsInput {
    fn from(value: &JsValue) -> JsInput {
        if value.is_function() {
            JsInput::Function(value.clone().unchecked_into())
        } else if let Some(b) = value.as_bool() {
            JsInput::Boolean(b)
        } else if let Some(n) = value.as_f64() {
            JsInput::Number(n)
        } else if let Some(s) = value.as_string() {
            JsInput::String(s)
        } else {
            JsInput::Other
        }
    }
}

impl ClientOptions {
    /// Reads the JavaScript options object (`undefined` or `null`: the
    /// defaults), checking every field's name, type and range. Written by
    /// hand rather than with serde: it keeps the wasm binary small.
    pub(crate) fn from_js(value: &JsValue) -> Result<ClientOptions, String> {
        let mut options = ClientOptions::default();
        if value.is_undefined() || value.is_null() {
            return Ok(options);
        }
        // A misspelt option must not be silently ignored.
        if let Some(obj) = value.dyn_ref::<Object>() {
            for key in Object::keys(obj).iter() {
                let key = key.as_string().unwrap_or_default();
                if !JS_OPTION_NAMES.contains(&key.as_str()) {
                    return Err(format!(
                        "unknown option \"{key}\"; known options: {}",
                        JS_OPTION_NAMES.join(", ")
                    ));
                }
            }
        }
        for name in JS_OPTION_NAMES {
            let field = Reflect::get(value, &JsValue::from_str(name))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null());
            if let Some(field) = field {
                options.set_js(name, JsInput::from(&field))?;
            }
        }
        Ok(options)
    }

    /// The reconnect policy these options describe.
    pub fn reconnect_policy(&self) -> ReconnectPolicy {
        ReconnectPolicy {
            initial: self.reconnect_interval,
            multiplier: self.backoff_multiplier,
            max: self.max_reconnect_interval,
            jitter: self.jitter,
            max_attempts: self.max_reconnect_attempts,
        }
    }
}

// Converters of JavaScript values into option values, by option name.

fn keep<T>(_name: &str, value: T) -> Result<T, String> {
    Ok(value)
}

fn millis(name: &str, value: f64) -> Result<Duration, String> {
    if value.is_finite() && value >= 0.0 {
        // Whole milliseconds: `from_secs_f64` costs 0.5 KB of wasm.
        Ok(Duration::from_millis(value as u64))
    } else {
        Err(format!(
            "{name} must be a non-negative number of milliseconds"
        ))
    }
}

fn count(name: &str, value: f64) -> Result<u32, String> {
    if value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
        Ok(value as u32)
    } else {
        Err(format!("{name} must be a whole number from 0"))
    }
}

fn multiplier(name: &str, value: f64) -> Result<f64, String> {
    if value.is_finite() && value >= 1.0 {
        Ok(value)
    } else {
        Err(format!("{name} must be a number of at least 1"))
    }
}

fn jitter(name: &str, value: String) -> Result<Jitter, String> {
    Jitter::from_name(&value).ok_or_else(|| {
        format!(
            "{name} must be \"{}\" or \"{}\", not \"{value}\"",
            Jitter::Full.name(),
            Jitter::None.name()
        )
    })
}

fn transport(name: &str, value: String) -> Result<Transport, String> {
    Transport::from_name(&value).ok_or_else(|| {
        format!(
            "{name} must be \"{}\" or \"{}\", not \"{value}\"",
            Transport::EventSource.name(),
            Transport::Fetch.name()
        )
    })
}

fn token_source(_name: &str, f: js_sys::Function) -> Result<Option<TokenSource>, String> {
    Ok(Some(TokenSource::from_js(f)))
}

fn non_empty(name: &str, value: String) -> Result<String, String> {
    if value.is_empty() {
        Err(format!("{name} must not be empty"))
    } else {
        Ok(value)
    }
}

fn optional_id(_name: &str, value: String) -> Result<Option<String>, String> {
    Ok(Some(value).filter(|id| !id.is_empty()))
}

/// The text of a default value in the TypeScript declarations, checked
/// against the Rust default by the tests.
#[cfg(test)]
trait TsDefault {
    fn ts_default(&self) -> String;
}

#[cfg(test)]
mod ts_defaults {
    use super::*;

    impl TsDefault for bool {
        fn ts_default(&self) -> String {
            self.to_string()
        }
    }
    impl TsDefault for u32 {
        fn ts_default(&self) -> String {
            self.to_string()
        }
    }
    impl TsDefault for f64 {
        fn ts_default(&self) -> String {
            self.to_string()
        }
    }
    impl TsDefault for Duration {
        fn ts_default(&self) -> String {
            self.as_millis().to_string()
        }
    }
    impl TsDefault for Jitter {
        fn ts_default(&self) -> String {
            format!("\"{}\"", self.name())
        }
    }
    impl TsDefault for Transport {
        fn ts_default(&self) -> String {
            format!("\"{}\"", self.name())
        }
    }
    impl TsDefault for String {
        fn ts_default(&self) -> String {
            format!("\"{self}\"")
        }
    }
}

/// Generates everything about the options from their table; see the
/// invocation below. Each row is
///
/// ```text
/// /// doc
/// field: Type = default,
///     builder(arg: ArgType) => value of the field from arg
///     [, js jsName: kind [as "TS type"] [= "TS default"] => converter];
/// ```
///
/// `kind` is the JavaScript type read (`boolean`, `number`, `string`), also
/// the TypeScript type unless `as` gives a narrower one, and
/// the converter turns it into the field's value or says why not. Rows
/// without `js` are Rust-only.
macro_rules! client_options {
    (
        $(
            $(#[doc = $doc:literal])+
            $field:ident: $ty:ty = $default:expr,
                builder($arg:ident: $arg_ty:ty) => $set:expr
                $(, js $js:ident: $kind:ident $(as $ts:tt)? $(= $ts_default:expr)? => $from_js:expr)?;
        )*
    ) => {
        /// Client configuration; see [`SseClientBuilder`] for setting it
        /// option by option.
        #[derive(Debug, Clone, PartialEq)]
        pub struct ClientOptions {
            $(
                $(#[doc = $doc])+
                pub $field: $ty,
            )*
        }

        impl Default for ClientOptions {
            fn default() -> Self {
                ClientOptions {
                    $($field: $default,)*
                }
            }
        }

        impl SseClientBuilder {
            $(
                $(#[doc = $doc])+
                pub fn $field(mut self, $arg: $arg_ty) -> Self {
                    self.options.$field = $set;
                    self
                }
            )*
        }

        /// Every option name the JavaScript options object may hold.
        pub(crate) const JS_OPTION_NAMES: &[&str] = &[$($(stringify!($js),)?)*];

        /// The `SseClientOptions` TypeScript interface.
        pub(crate) const TS_OPTIONS: &str = const_concat!(
            "/** Options of an SseClient; every field is optional. */\n",
            "export interface SseClientOptions {\n",
            $(client_options!(@ts [$($doc)+] $($js [$kind $($ts)?] $(($ts_default))?)?),)*
            "}\n",
        );

        impl ClientOptions {
            /// Sets the option whose JavaScript name is `name` from `value`.
            pub(crate) fn set_js(&mut self, name: &str, value: JsInput) -> Result<(), String> {
                match name {
                    $($(
                        stringify!($js) => {
                            let client_options!(@kind $kind value) = value else {
                                // Spelt out: `to_lowercase` would link
                                // Unicode tables into the wasm.
                                return Err(format!("{name} must be a {}", stringify!($kind)));
                            };
                            self.$field = $from_js(name, value)?;
                        }
                    )?)*
                    _ => return Err(format!("unknown option \"{name}\"")),
                }
                Ok(())
            }
        }

        #[cfg(test)]
        mod table_tests {
            use super::*;

            #[test]
            fn typescript_defaults_are_the_rust_defaults() {
                let defaults = ClientOptions::default();
                $($($(
                    assert_eq!(
                        TsDefault::ts_default(&defaults.$field),
                        $ts_default,
                        "default of {}",
                        stringify!($js)
                    );
                )?)?)*
            }
        }
    };
    (@kind boolean $value:ident) => { JsInput::Boolean($value) };
    (@kind number $value:ident) => { JsInput::Number($value) };
    (@kind string $value:ident) => { JsInput::String($value) };
    (@kind function $value:ident) => { JsInput::Function($value) };
    (@ts [$($doc:literal)+]) => { "" };
    (@ts [$($doc:literal)+] $js:ident $ts:tt $(($ts_default:expr))?) => {
        const_concat!(
            "  /**", $($doc,)+ $(" Default ", $ts_default, ".",)? " */\n",
            "  ", stringify!($js), "?: ", client_options!(@ts_type $ts), ";\n",
        )
    };
    (@ts_type [$kind:ident]) => { stringify!($kind) };
    (@ts_type [$kind:ident $ts:tt]) => { $ts };
}

client_options! {
    /// Send cookies cross-origin (EventSource's `withCredentials`).
    with_credentials: bool = false,
        builder(yes: bool) => yes,
        js withCredentials: boolean = "false" => keep;
    /// Consecutive failed attempts before giving up in state "failed".
    max_reconnect_attempts: u32 = DEFAULT_MAX_RECONNECT_ATTEMPTS,
        builder(n: u32) => n,
        js maxReconnectAttempts: number = "5" => count;
    /// First reconnect delay ceiling (in ms in JavaScript).
    reconnect_interval: Duration = DEFAULT_RECONNECT_INTERVAL,
        builder(d: Duration) => d,
        js reconnectInterval: number = "3000" => millis;
    /// Largest reconnect delay ceiling (in ms in JavaScript).
    max_reconnect_interval: Duration = DEFAULT_MAX_RECONNECT_INTERVAL,
        builder(d: Duration) => d,
        js maxReconnectInterval: number = "30000" => millis;
    /// Growth of the delay ceiling per attempt (at least 1).
    backoff_multiplier: f64 = DEFAULT_BACKOFF_MULTIPLIER,
        builder(m: f64) => m,
        js backoffMultiplier: number = "2" => multiplier;
    /// "full": delay uniform between 0 and the ceiling; "none": exactly the ceiling.
    jitter: Jitter = Jitter::Full,
        builder(jitter: Jitter) => jitter,
        js jitter: string as
            (const_concat!(parts = &crate::const_str::quoted_union::<2, 7>(Jitter::NAMES)))
            = const_concat!("\"", Jitter::Full.name(), "\"")
            => jitter;
    /// Query parameter carrying the last event id on reconnects.
    last_event_id_param: String = LAST_EVENT_ID_PARAM.to_owned(),
        builder(name: impl Into<String>) => name.into(),
        js lastEventIdParam: string = const_concat!("\"", LAST_EVENT_ID_PARAM, "\"")
            => non_empty;
    /// Resume after this id on the first connect, e.g. after a page reload.
    last_event_id: Option<String> = None,
        builder(id: impl Into<String>) => Some(id.into()).filter(|id: &String| !id.is_empty()),
        js lastEventId: string => optional_id;
    /// Deliver data to JavaScript handlers as strings, without JSON decoding.
    raw: bool = false,
        builder(yes: bool) => yes,
        js raw: boolean = "false" => keep;
    /// Reconnect at once when the browser comes back online.
    reconnect_on_online: bool = false,
        builder(yes: bool) => yes,
        js reconnectOnOnline: boolean = "false" => keep;
    /// Close while the tab is hidden, resume by id when visible.
    pause_when_hidden: bool = false,
        builder(yes: bool) => yes,
        js pauseWhenHidden: boolean = "false" => keep;
    /// How the stream is read: "eventsource" (the browser's EventSource:
    /// cookies, and tokens traded for tickets) or "fetch" (a streaming fetch
    /// that sends the token as `Authorization: Bearer`).
    transport: Transport = Transport::EventSource,
        builder(transport: Transport) => transport,
        js transport: string as
            (const_concat!(parts = &crate::const_str::quoted_union::<2, 7>(Transport::NAMES)))
            = const_concat!("\"", Transport::EventSource.name(), "\"")
            => transport;
    /// Called before every connect and when the server says the token
    /// expired; returns the token (null: none), or a promise of it. With
    /// "eventsource" the client trades it for a single-use ticket.
    get_token: Option<TokenSource> = None,
        builder(source: TokenSource) => Some(source),
        js getToken: function
            as "() => string | null | undefined | Promise<string | null | undefined>"
            => token_source;
    /// Where a token is traded for a ticket (transport "eventsource"),
    /// relative to the stream's URL.
    ticket_url: String = TICKETS_PATH.to_owned(),
        builder(url: impl Into<String>) => url.into(),
        js ticketUrl: string = const_concat!("\"", TICKETS_PATH, "\"") => non_empty;
    /// Capacity of each typed event stream (at least 1).
    stream_capacity: usize = DEFAULT_STREAM_CAPACITY,
        builder(n: usize) => n.max(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_values_are_converted_and_validated() {
        let mut o = ClientOptions::default();
        o.set_js("maxReconnectAttempts", JsInput::Number(10.0))
            .unwrap();
        o.set_js("reconnectInterval", JsInput::Number(2000.0))
            .unwrap();
        o.set_js("jitter", JsInput::String("none".into())).unwrap();
        o.set_js("lastEventId", JsInput::String(String::new()))
            .unwrap();
        assert_eq!(o.max_reconnect_attempts, 10);
        assert_eq!(o.reconnect_interval, Duration::from_millis(2000));
        assert_eq!(o.jitter, Jitter::None);
        assert_eq!(o.last_event_id, None, "an empty id is no id");
        assert_eq!(o.last_event_id_param, LAST_EVENT_ID_PARAM);
        let policy = o.reconnect_policy();
        assert_eq!(policy.max_attempts, 10);
        assert_eq!(policy.initial, Duration::from_millis(2000));
    }

    #[test]
    fn invalid_javascript_values_say_which_option() {
        let mut o = ClientOptions::default();
        for (name, value) in [
            ("reconnectInterval", JsInput::Number(-1.0)),
            ("maxReconnectInterval", JsInput::Number(f64::NAN)),
            ("backoffMultiplier", JsInput::Number(0.5)),
            ("maxReconnectAttempts", JsInput::Number(1.5)),
            ("maxReconnectAttempts", JsInput::Number(-1.0)),
            ("jitter", JsInput::String("some".into())),
            ("lastEventIdParam", JsInput::String(String::new())),
            ("withCredentials", JsInput::String("yes".into())),
            ("raw", JsInput::Other),
            ("lastEventId", JsInput::Number(3.0)),
        ] {
            let err = o.set_js(name, value.clone()).unwrap_err();
            assert!(err.starts_with(name), "{name} = {value:?}: {err}");
        }
        assert_eq!(o, ClientOptions::default(), "nothing was set");
        assert_eq!(
            o.set_js("withCredentials", JsInput::Number(1.0))
                .unwrap_err(),
            "withCredentials must be a boolean"
        );
    }

    #[test]
    fn every_javascript_option_is_declared_for_typescript() {
        assert_eq!(JS_OPTION_NAMES.len(), 14);
        for name in JS_OPTION_NAMES {
            assert!(
                TS_OPTIONS.contains(&format!("\n  {name}?: ")),
                "{name} in {TS_OPTIONS}"
            );
        }
        assert!(TS_OPTIONS.contains("  jitter?: \"full\" | \"none\";\n"));
        assert!(TS_OPTIONS.contains("  transport?: \"eventsource\" | \"fetch\";\n"));
        assert!(TS_OPTIONS.contains(
            "  getToken?: () => string | null | undefined | Promise<string | null | undefined>;\n"
        ));
        assert!(TS_OPTIONS.contains(&format!("Default \"{LAST_EVENT_ID_PARAM}\". */")));
        assert!(!TS_OPTIONS.contains("streamCapacity"), "Rust-only");
    }

    #[test]
    fn the_builder_sets_the_same_fields() {
        let b = SseClientBuilder::new("/x")
            .max_reconnect_attempts(7)
            .last_event_id("")
            .last_event_id_param("since")
            .stream_capacity(0);
        let o = &b.options;
        assert_eq!(o.max_reconnect_attempts, 7);
        assert_eq!(o.last_event_id, None);
        assert_eq!(o.last_event_id_param, "since");
        assert_eq!(o.stream_capacity, 1);
    }
}
