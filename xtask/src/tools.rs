//! Installing what the build and tests need, idempotently: each tool is
//! checked first and installed only when missing, so a second run is quiet
//! and fast. Everything comes from the package registries this project may
//! use (rustup's targets, crates.io, Debian) — never a tool's own download
//! of a browser or binary.

use std::path::Path;

use crate::util::{cmd, output, root, run_quiet};

/// The wasm target, for the protocol crate and the browser client.
pub fn ensure_wasm_target() -> Result<(), String> {
    let installed =
        output(&mut cmd("rustup", &["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    eprintln!("xtask: installing the wasm32-unknown-unknown target");
    run_quiet(&mut cmd(
        "rustup",
        &["target", "add", "wasm32-unknown-unknown"],
    ))
}

/// The wasm-bindgen version pinned in Cargo.lock.
fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

/// wasm-pack, and wasm-bindgen-cli at exactly the locked version (so
/// wasm-pack never downloads its own).
pub fn ensure_wasm_tools() -> Result<(), String> {
    ensure_wasm_target()?;
    if output(&mut cmd("wasm-pack", &["--version"])).is_none() {
        eprintln!("xtask: installing wasm-pack (cargo install, a few minutes)");
        run_quiet(&mut cmd("cargo", &["install", "wasm-pack", "--locked"]))?;
    }
    let version = locked_wasm_bindgen_version()?;
    let installed = output(&mut cmd("wasm-bindgen", &["--version"])).unwrap_or_default();
    if installed.trim() != format!("wasm-bindgen {version}") {
        eprintln!("xtask: installing wasm-bindgen-cli {version} (cargo install, a few minutes)");
        // Not --locked: the registry lacks one of its locked dependencies.
        run_quiet(&mut cmd(
            "cargo",
            &[
                "install",
                "wasm-bindgen-cli",
                "--version",
                &version,
                "--force",
            ],
        ))?;
    }
    Ok(())
}

/// Debian's Chromium and ChromeDriver (browser tests) and binaryen (wasm-opt).
pub fn ensure_browser_and_binaryen() -> Result<(), String> {
    let have = |p: &str| Path::new(p).exists();
    let have_wasm_opt = output(&mut cmd("wasm-opt", &["--version"])).is_some();
    if have("/usr/bin/chromium") && have("/usr/bin/chromedriver") && have_wasm_opt {
        return Ok(());
    }
    eprintln!("xtask: installing chromium, chromium-driver and binaryen from Debian");
    run_quiet(&mut cmd("apt-get", &["update", "-qq"]))?;
    run_quiet(
        cmd(
            "apt-get",
            &[
                "install",
                "-y",
                "-qq",
                "chromium",
                "chromium-driver",
                "binaryen",
            ],
        )
        .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}
