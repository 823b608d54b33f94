//! `cargo xtask demo`: builds the npm package, installs it into the demo
//! page's `node_modules`, builds the server (release) and serves the page at
//! http://127.0.0.1:8080/ unless flags say otherwise.

use crate::util::{self, cmd};
use crate::wasm;

pub fn run(flags: Vec<String>) -> Result<(), String> {
    wasm::install_into_www()?;
    let mut args = vec![
        "run",
        "--release",
        "--quiet",
        "-p",
        "pushwire-server",
        "--bin",
        "pushwire",
        "--",
    ];
    if !flags.iter().any(|f| f.starts_with("--www-dir")) {
        args.extend(["--www-dir", "www"]);
    }
    let mut c = cmd("cargo", &args);
    c.args(&flags);
    eprintln!("xtask: serving the demo; open http://127.0.0.1:8080/ (or the address given)");
    util::run(&mut c)
}
