//! Building the npm package `pushwire-client` with wasm-pack, optimised for
//! size: the `wasm-release` profile (opt-level z, LTO, one codegen unit),
//! then Debian's `wasm-opt -Oz`.

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
    tools::ensure_browser_and_binaryen()?;
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
        "wasm-opt",
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
