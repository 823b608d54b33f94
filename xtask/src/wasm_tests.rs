//! The browser client's wasm tests in headless Chromium, without wasm-pack:
//! `cargo test --target wasm32-unknown-unknown` with `wasm-bindgen-test-runner`
//! (from the wasm-bindgen-cli that `tools::ensure_wasm_bindgen` installs at
//! the locked version) as cargo's runner for that target. The runner drives
//! Debian's `/usr/bin/chromedriver`, which starts `/usr/bin/chromium` with the
//! headless flags of `client-wasm/webdriver.json`; nothing downloads a browser
//! or a driver.

use std::process::Command;

use crate::util::{cmd, root};

/// The runner cargo hands each wasm test binary to.
const RUNNER: &str = "wasm-bindgen-test-runner";
/// Debian's ChromeDriver (package chromium-driver).
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `cargo test --target wasm32-unknown-unknown -p pushwire-client` followed by
/// `args`, its tests run in headless Chromium; each test may take `timeout_secs`.
pub fn command(args: &[&str], timeout_secs: u32) -> Command {
    let mut c = cmd(
        "cargo",
        &[
            "test",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "pushwire-client",
        ],
    );
    c.args(args)
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", RUNNER)
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env(
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
            root().join("client-wasm/webdriver.json"),
        )
        // Test binaries without `run_in_browser` (the native unit tests of
        // the lib target, built for wasm32) are skipped, not run in node.
        .env("WASM_BINDGEN_TEST_ONLY_WEB", "1")
        .env("WASM_BINDGEN_TEST_TIMEOUT", timeout_secs.to_string())
        // The runner prefers any of these over CHROMEDRIVER, and NO_HEADLESS
        // would serve the tests for a person's browser instead of running them.
        .env_remove("NO_HEADLESS")
        .env_remove("CHROMEDRIVER_REMOTE")
        .env_remove("GECKODRIVER_REMOTE")
        .env_remove("SAFARIDRIVER_REMOTE")
        .env_remove("MSEDGEDRIVER_REMOTE")
        .env_remove("GECKODRIVER")
        .env_remove("SAFARIDRIVER")
        .env_remove("WASM_BINDGEN_TEST_ADDRESS");
    c
}
