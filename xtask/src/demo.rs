//! `cargo xtask demo`: builds the server (release) and serves the demo page
//! from `www/` at http://127.0.0.1:8080/ unless flags say otherwise.

use crate::util::{self, cmd};

pub fn run(flags: Vec<String>) -> Result<(), String> {
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
    util::run(&mut c)
}
