//! Building the npm package `pushwire-client` with wasm-pack, optimised for
//! size: the `wasm-release` profile (opt-level z, LTO, one codegen unit),
//! then binaryen's `wasm-opt -Oz` (see [`tools::BINARYEN_VERSION`]).

use std::path::PathBuf;

use crate::tools;
use crate::util::{self, cmd, root};

/// Where the npm package is built.
pub fn pkg_dir() -> PathBuf {
    root().join("client-wasm/pkg")
}

/// Builds the npm package into `client-wasm/pkg`.
pub fn build_package() -> Result<(), String> {
    tools::ensure_wasm_tools()?;
    let wasm_opt = tools::ensure_wasm_opt()?;
    util::run(&mut cmd(
        "wasm-pack",
        &[
            "build",
            "client-wasm",
            "--target",
            "web",
            "--profile",
            "wasm-release",
            "--weak-refs",
            "--no-opt",
            "--quiet",
        ],
    ))?;
    let wasm = pkg_dir().join("pushwire_client_bg.wasm");
    let wasm = wasm.to_string_lossy();
    util::run(&mut cmd(
        &wasm_opt.to_string_lossy(),
        &[
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
            &wasm,
            "-o",
            &wasm,
        ],
    ))
}

/// Packs the npm package and installs the tarball into `www/node_modules`,
/// so the demo page imports `pushwire-client` exactly as an npm user would.
pub fn install_into_www() -> Result<(), String> {
    build_package()?;
    let npm_dir = root().join("target/npm");
    std::fs::create_dir_all(&npm_dir)
        .map_err(|e| format!("cannot create {}: {e}", npm_dir.display()))?;
    let npm_dir_s = npm_dir.to_string_lossy().into_owned();
    let mut pack = cmd(
        "npm",
        &["pack", "--silent", "--pack-destination", &npm_dir_s],
    );
    pack.current_dir(pkg_dir());
    let tarball = util::output(&mut pack).ok_or("npm pack failed")?;
    let tarball = npm_dir.join(tarball.trim());
    util::npm_install_into("www", &tarball.to_string_lossy())
}
