//! Installing what the build and tests need, idempotently: each tool is
//! checked first and installed only when missing, so a second run is quiet
//! and fast. Everything comes from the package registries this project may
//! use (rustup's targets, crates.io, npm, Debian) — never a tool's own
//! download of a browser or binary.
//!
//! `cargo install` builds in a folder of `target/tools/cargo-install` that
//! outlives it, so an install interrupted halfway resumes where it stopped.

use std::path::{Path, PathBuf};

use crate::progress::Step;
use crate::util::{cmd, npm_install_command, output, root};

/// The wasm target, for the protocol crate and the browser client.
pub fn ensure_wasm_target(step: &Step) -> Result<(), String> {
    let installed =
        output(&mut cmd("rustup", &["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        step.detail(crate::progress::ALREADY);
        return Ok(());
    }
    step.run(&mut cmd(
        "rustup",
        &["target", "add", "wasm32-unknown-unknown"],
    ))
}

/// The wasm-bindgen version pinned in Cargo.lock.
pub fn locked_wasm_bindgen_version() -> Result<String, String> {
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

/// `cargo install` of `args`, building in a persistent folder named `dir`.
fn cargo_install(step: &Step, dir: &str, args: &[&str]) -> Result<(), String> {
    let target_dir = root().join("target/tools/cargo-install").join(dir);
    let mut c = cmd("cargo", &["install"]);
    c.args(args).arg("--target-dir").arg(target_dir);
    step.run(&mut c)
}

/// wasm-bindgen-cli at exactly the locked version: `wasm-bindgen` (the npm
/// package's bindings) and `wasm-bindgen-test-runner` (cargo's runner for the
/// browser tests; see `wasm_tests`).
pub fn ensure_wasm_bindgen(step: &Step) -> Result<(), String> {
    let version = locked_wasm_bindgen_version()?;
    let has = |bin: &str| {
        output(&mut cmd(bin, &["--version"]))
            .is_some_and(|v| v.split_whitespace().nth(1) == Some(version.as_str()))
    };
    if has("wasm-bindgen") && has("wasm-bindgen-test-runner") {
        step.detail(crate::progress::ALREADY);
        return Ok(());
    }
    // Not --locked: the registry lacks one of its locked dependencies.
    cargo_install(
        step,
        "wasm-bindgen-cli",
        &["wasm-bindgen-cli", "--version", &version, "--force"],
    )
}

/// cargo-fuzz's version, for `cargo xtask fuzz` and the fuzz suite of
/// `cargo xtask test`.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// cargo-fuzz at [`CARGO_FUZZ_VERSION`] (`cargo fuzz`; libFuzzer itself is
/// built from the `libfuzzer-sys` crate with the targets).
pub fn ensure_cargo_fuzz(step: &Step) -> Result<(), String> {
    let installed = output(&mut cmd("cargo", &["fuzz", "--version"]));
    if installed.is_some_and(|v| v.split_whitespace().nth(1) == Some(CARGO_FUZZ_VERSION)) {
        step.detail(crate::progress::ALREADY);
        return Ok(());
    }
    cargo_install(
        step,
        "cargo-fuzz",
        &[
            "cargo-fuzz",
            "--version",
            CARGO_FUZZ_VERSION,
            "--locked",
            "--force",
        ],
    )
}

/// Debian packages the suites need: Chromium and ChromeDriver for the
/// browser tests, nats-server (2.9) for the cluster tests. One apt run for
/// all of them (apt takes a lock, so two at once would fail).
pub fn ensure_system_packages(step: &Step) -> Result<(), String> {
    ensure_debian_packages(
        step,
        &[
            ("/usr/bin/chromium", "chromium"),
            ("/usr/bin/chromedriver", "chromium-driver"),
            NATS_SERVER,
        ],
    )
}

/// nats-server's binary and Debian package.
const NATS_SERVER: (&str, &str) = ("/usr/bin/nats-server", "nats-server");

/// nats-server alone, for the cluster benchmark (which needs no browser).
pub fn ensure_nats_server(step: &Step) -> Result<(), String> {
    ensure_debian_packages(step, &[NATS_SERVER])
}

/// Installs the packages of `wanted` (binary, package) whose binary is missing.
fn ensure_debian_packages(step: &Step, wanted: &[(&str, &str)]) -> Result<(), String> {
    let have = |p: &str| Path::new(p).exists();
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(binary, _)| !have(binary))
        .map(|&(_, package)| package)
        .collect();
    if missing.is_empty() {
        step.detail(crate::progress::ALREADY);
        return Ok(());
    }
    step.detail("apt-get update");
    step.run(&mut cmd("apt-get", &["update", "-qq"]))?;
    step.detail(format!("apt-get install {}", missing.join(" ")));
    let mut args = vec!["install", "-y", "-qq"];
    args.extend(&missing);
    step.run(cmd("apt-get", &args).env("DEBIAN_FRONTEND", "noninteractive"))
}

/// binaryen's version, from the npm registry. Debian's binaryen 108 cannot
/// optimise this package: it rejects `table.fill` and, given reference
/// types, turns wasm-bindgen's externref table into one the browser refuses.
pub const BINARYEN_VERSION: &str = "132.0.0";

/// terser's version, from the npm registry: it minifies the package's
/// JavaScript (wasm-bindgen's glue and the inline snippets), 7.6 KB of it
/// gzipped down to 5.4 KB. Pure JavaScript, so the same bytes everywhere.
pub const TERSER_VERSION: &str = "5.51.4";

/// The package build's npm tools, installed under `target/tools`.
pub struct NpmTools {
    /// binaryen's `wasm-opt`.
    pub wasm_opt: PathBuf,
    /// terser's command-line minifier.
    pub terser: PathBuf,
}

/// `wasm-opt` of the pinned binaryen and the pinned terser, installed
/// under `target/tools` when either is missing or at another version.
pub fn ensure_npm_tools(step: &Step) -> Result<NpmTools, String> {
    let prefix = root().join("target/tools");
    let modules = prefix.join("node_modules");
    let tools = NpmTools {
        wasm_opt: modules.join(".bin/wasm-opt"),
        terser: modules.join(".bin/terser"),
    };
    let at = |package: &str, version: &str| {
        std::fs::read_to_string(modules.join(package).join("package.json"))
            .unwrap_or_default()
            .contains(&format!("\"version\": \"{version}\""))
    };
    if tools.wasm_opt.exists()
        && tools.terser.exists()
        && at("binaryen", BINARYEN_VERSION)
        && at("terser", TERSER_VERSION)
    {
        step.detail(crate::progress::ALREADY);
        return Ok(tools);
    }
    std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
    let mut install = npm_install_command(
        &prefix.to_string_lossy(),
        &format!("binaryen@{BINARYEN_VERSION}"),
    );
    install.arg(format!("terser@{TERSER_VERSION}"));
    step.run(&mut install)?;
    Ok(tools)
}

/// The end-to-end tests' npm packages (playwright-core, typescript, vite),
/// from the lock file: installed again when any devDependency of
/// tests/package.json is missing or at another version.
pub fn ensure_e2e_packages(step: &Step) -> Result<(), String> {
    let dir = root().join("tests");
    let manifest = std::fs::read_to_string(dir.join("package.json"))
        .map_err(|e| format!("cannot read tests/package.json: {e}"))?;
    let wanted = manifest
        .split("\"devDependencies\"")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .unwrap_or_default();
    let installed = wanted
        .lines()
        .filter_map(|l| l.split_once(':'))
        .all(|(name, version)| {
            let name = name.trim().trim_matches('"');
            let version = version.trim().trim_end_matches(',').trim_matches('"');
            let path = dir.join("node_modules").join(name).join("package.json");
            std::fs::read_to_string(path)
                .is_ok_and(|text| text.contains(&format!("\"version\": \"{version}\"")))
        });
    if installed {
        step.detail(crate::progress::ALREADY);
        return Ok(());
    }
    let mut c = cmd("npm", &["ci", "--no-audit", "--no-fund"]);
    c.current_dir(dir);
    step.run(&mut c)
}
