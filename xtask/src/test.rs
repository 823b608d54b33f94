//! `cargo xtask test`: formatting, lints, every test suite of the workspace,
//! and the protocol crate's wasm32 build.

use crate::tools;
use crate::util::{self, cmd};

pub fn run() -> Result<(), String> {
    tools::ensure_wasm_target()?;
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
    Ok(())
}
