//! Installing what the build and tests need, idempotently: each tool is
//! checked first and installed only when missing, so a second run is quiet
//! and fast. Everything comes from the package registries this project may
//! use (rustup's targets, crates.io, Debian, npm) — never a tool's own
//! download of a browser or binary.

use crate::util::{cmd, output, run_quiet};

/// The wasm target, for the protocol crate's wasm32 build.
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
