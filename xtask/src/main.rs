//! `cargo xtask`: the one entry point for building, running, testing and
//! benchmarking pushwire.
//!
//! * `cargo xtask demo [server flags…]` builds what the demo needs and serves it.
//! * `cargo xtask package` rebuilds the committed npm package (see `wasm`).
//! * `cargo xtask test` installs whatever is missing (quietly when nothing
//!   is), then runs every check and test suite of the workspace.
//! * `cargo xtask fuzz [--secs N] [--target NAME]` runs the fuzz targets (see `fuzz`).
//! * `cargo xtask cluster [--nodes N]` runs NATS and N nodes locally (see `cluster`).

mod bench;
mod cluster;
mod demo;
mod fuzz;
mod package;
mod progress;
mod servers;
mod sha256;
mod test;
mod tools;
mod util;
mod wasm;
mod wasm_tests;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  demo [flags…]   build what the demo needs and run the server (flags go to `pushwire`;
                  --tls: HTTPS and HTTP/2 with a self-signed certificate)
  cluster [--nodes N]  a local NATS JetStream and N nodes sharing it (default 3)
  package         rebuild the npm package pushwire-client into xtask/prebuilt (commit it)
  test            install missing tools, then run fmt, clippy and every test suite
  test chromium   only the client's wasm tests in headless Chromium
  test demo       only the checks of `cargo xtask demo` (plain and --tls)
  bench [--quick|--full]  pushwire against peer SSE servers, into BENCHMARKS.md
  bench --scenarios cluster [--quick|--full]  pushwire nodes on a local NATS JetStream
  bench client    browser client: package size and decode throughput in Chromium
  fuzz [--secs N] [--target NAME]  run the fuzz targets of fuzz/ (N s each, default 60)
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("demo") => demo::run(args.collect()),
        Some("cluster") => cluster::run(args.collect()),
        Some("test") => test::run(args.collect()),
        Some("package") => package::run(),
        Some("bench") => bench::run(args.collect()),
        Some("fuzz") => fuzz::run(args.collect()),
        Some("help" | "--help" | "-h") | None => {
            eprint!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}
