//! [`TokenSource`]: the app's `getToken`, asked for a token before every
//! connect and when the server says the token expired.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// The app's token callback: a JavaScript function returning a token (a
/// string; `null` or `undefined` for none) or a promise of one.
#[derive(Clone)]
pub struct TokenSource(pub(crate) js_sys::Function);

impl TokenSource {
    /// A token source calling the JavaScript function `f`.
    pub fn from_js(f: js_sys::Function) -> TokenSource {
        TokenSource(f)
    }

    /// A token source calling `f`, whose promise resolves to the token.
    pub fn new(f: impl Fn() -> js_sys::Promise + 'static) -> TokenSource {
        let f = Closure::<dyn Fn() -> js_sys::Promise>::new(f).into_js_value();
        TokenSource(f.unchecked_into())
    }
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSource")
    }
}

impl PartialEq for TokenSource {
    fn eq(&self, other: &TokenSource) -> bool {
        self.0 == other.0
    }
}
