//! `cargo xtask test`: formatting, lints, every test suite of the workspace
//! (native, then the browser client in headless Chromium against real
//! servers), and the npm package build.

use crate::servers::{dead_url, Server};
use crate::util::{self, cmd};
use crate::{tools, wasm};

pub fn run() -> Result<(), String> {
    tools::ensure_wasm_tools()?;
    tools::ensure_browser_and_binaryen()?;

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
    wasm::build_package()?;
    Ok(())
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
