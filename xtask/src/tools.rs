//! Installing what the build and tests need, idempotently: each tool is
//! checked first and installed only when missing, so a second run is quiet
//! and fast. Everything comes from the package registries this project may
//! use (rustup's targets, crates.io, Debian) — never a tool's own download
//! of a browser or binary.

use std::path::{Path, PathBuf};

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

/// Debian's Chromium and ChromeDriver, for the browser tests.
pub fn ensure_browser() -> Result<(), String> {
    let have = |p: &str| Path::new(p).exists();
    if have("/usr/bin/chromium") && have("/usr/bin/chromedriver") {
        return Ok(());
    }
    eprintln!("xtask: installing chromium and chromium-driver from Debian");
    run_quiet(&mut cmd("apt-get", &["update", "-qq"]))?;
    run_quiet(
        cmd(
            "apt-get",
            &["install", "-y", "-qq", "chromium", "chromium-driver"],
        )
        .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// binaryen's version, from the npm registry. Debian's binaryen 108 cannot
/// optimise this package: it rejects `table.fill` and, given reference
/// types, turns wasm-bindgen's externref table into one the browser refuses.
pub const BINARYEN_VERSION: &str = "132.0.0";

/// `wasm-opt` of the pinned binaryen, installed under `target/tools`.
pub fn ensure_wasm_opt() -> Result<PathBuf, String> {
    let prefix = root().join("target/tools");
    let bin = prefix.join("node_modules/.bin/wasm-opt");
    let installed = std::fs::read_to_string(prefix.join("node_modules/binaryen/package.json"))
        .unwrap_or_default();
    if bin.exists() && installed.contains(&format!("\"version\": \"{BINARYEN_VERSION}\"")) {
        return Ok(bin);
    }
    eprintln!("xtask: installing binaryen {BINARYEN_VERSION} (wasm-opt) from npm");
    std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
    crate::util::npm_install_into(
        &prefix.to_string_lossy(),
        &format!("binaryen@{BINARYEN_VERSION}"),
    )?;
    Ok(bin)
}

/// The end-to-end tests' npm packages (playwright-core, typescript), from the lock file.
pub fn ensure_e2e_packages() -> Result<(), String> {
    let dir = root().join("tests");
    let installed =
        std::fs::read_to_string(dir.join("node_modules/.package-lock.json")).unwrap_or_default();
    if installed.contains("node_modules/playwright-core")
        && installed.contains("node_modules/typescript")
    {
        return Ok(());
    }
    eprintln!("xtask: installing the end-to-end tests' npm packages");
    let mut c = cmd("npm", &["ci", "--no-audit", "--no-fund"]);
    c.current_dir(dir);
    run_quiet(&mut c)
}
