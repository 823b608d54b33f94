//! `cargo xtask package`: rebuilds the npm package `pushwire-client` and
//! writes it, with the record of its inputs, as the committed build in
//! `xtask/prebuilt` (see [`wasm`]). Run it after changing the client, the
//! protocol crate or their dependencies, and commit the result;
//! `cargo xtask test` fails until the committed build is current.

use crate::progress::Progress;
use crate::wasm::{self, Inputs};

pub fn run() -> Result<(), String> {
    let before = Inputs::of_checkout()?;
    let steps = wasm::build_steps()?;
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    let progress = Progress::new(&steps);
    wasm::build_package(&progress, 0, &before)?;
    drop(progress);
    if Inputs::of_checkout()? != before {
        return Err("the client's sources changed during the build; run it again".into());
    }
    wasm::commit_build(&before)?;
    eprintln!(
        "xtask: wrote {} and {}; commit them: git add xtask/prebuilt",
        wasm::committed_dir().display(),
        wasm::committed_inputs_file().display()
    );
    Ok(())
}
