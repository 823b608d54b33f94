//! `cargo xtask test`: formatting, lints, every test suite of the workspace
//! (native; the browser client in headless Chromium against real servers;
//! the demo page end to end, on the npm package built here).

use crate::servers::{dead_url, Server};
use crate::util::{self, cmd};
use crate::{tools, wasm};

pub fn run() -> Result<(), String> {
    tools::ensure_wasm_tools()?;
    tools::ensure_browser()?;

    util::run(&mut cmd("cargo", &["fmt", "--all", "--", "--check"]))?;
    util::run(&mut cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ],
    ))?;
    // The browser client and the protocol crate, as they build for the web.
    util::run(&mut cmd(
        "cargo",
        &[
            "clippy",
            "--quiet",
            "-p",
            "pushwire-client",
            "--all-targets",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ],
    ))?;
    util::run(&mut cmd(
        "cargo",
        &[
            "build",
            "--quiet",
            "-p",
            "pushwire-protocol",
            "--target",
            "wasm32-unknown-unknown",
        ],
    ))?;
    util::run(&mut cmd("cargo", &["test", "--workspace"]))?;
    browser_tests()?;
    end_to_end_tests()?;
    Ok(())
}

/// The demo page in Chromium, driven by playwright-core (node's test runner),
/// against real servers the tests start, kill and restart themselves. The
/// page imports the npm package, built and installed here.
fn end_to_end_tests() -> Result<(), String> {
    wasm::install_into_www()?;
    tools::ensure_e2e_packages()?;
    // The package's TypeScript declarations, checked as a TS user would use them.
    let mut types = cmd("npm", &["run", "--silent", "types"]);
    types.current_dir(util::root().join("tests"));
    util::run(&mut types)?;
    let bin = util::root().join("target/debug/pushwire");
    let mut c = cmd("npm", &["test", "--silent"]);
    c.current_dir(util::root().join("tests"))
        .env("PUSHWIRE_BIN", bin);
    util::run(&mut c)
}

/// The client's wasm tests in headless Chromium against real servers.
fn browser_tests() -> Result<(), String> {
    util::run(&mut cmd(
        "cargo",
        &[
            "build",
            "--quiet",
            "-p",
            "pushwire-server",
            "--bin",
            "pushwire",
        ],
    ))?;
    let main = Server::start(&["--cors-origins", "*", "--monitoring-ms", "100"])?;
    let rotating = Server::start(&["--cors-origins", "*", "--stream-lifetime-ms", "400"])?;
    let dead = dead_url()?;
    util::run(
        cmd(
            "wasm-pack",
            &["test", "--headless", "--chrome", "client-wasm"],
        )
        .env("PUSHWIRE_TEST_SERVER", &main.url)
        .env("PUSHWIRE_TEST_ROTATING_SERVER", &rotating.url)
        .env("PUSHWIRE_TEST_DEAD_URL", &dead)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300"),
    )
}
