//! Building plain JavaScript objects from Rust values, with
//! `js_sys::Reflect` (no serde-wasm-bindgen: it keeps the binary small).

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// A plain object with `entries` as its properties.
pub(crate) fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (key, value) in entries {
        let _ = Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj.into()
}

/// `js_object! { camelCaseKey: value, … }`: a plain object whose property
/// names are written as identifiers.
macro_rules! js_object {
    ($($key:ident: $value:expr),* $(,)?) => {
        $crate::js_object::object(&[$((stringify!($key), ::wasm_bindgen::JsValue::from($value))),*])
    };
}
pub(crate) use js_object;
