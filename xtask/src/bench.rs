//! `cargo xtask bench …`: benchmarks. Timing goals live here, never in the
//! pass/fail tests.
//!
//! * `cargo xtask bench [--quick | --full]`: pushwire against axum and
//!   naive-warp SSE servers (connections held, fan-out, single-client
//!   latency, reconnect storm), written to BENCHMARKS.md.
//! * `cargo xtask bench --scenarios cluster [--quick | --full]`: pushwire
//!   nodes sharing a local NATS JetStream (connections held over 5 nodes,
//!   cross-node latency, a node SIGKILLed under its subscribers), into the
//!   cluster section of BENCHMARKS.md; installs nats-server when missing.
//!   Only run when named in `--scenarios`.
//! * `cargo xtask bench --scenarios tls [--quick | --full]`: pushwire
//!   against axum over rustls on one certificate generated for the run
//!   (connections held and fan-out over HTTP/1.1+TLS and HTTP/2, plaintext
//!   as the baseline), into the TLS section of BENCHMARKS.md. Only run when
//!   named in `--scenarios`.
//! * `cargo xtask bench --scenarios sweep [--quick]`: fan-out over a grid
//!   of subscriber counts and rates (or only `--points 1000x100,…`, with
//!   `--rounds N` and `--secs S`), in rounds alternating the servers and
//!   a minimal floor server (`pushwire-bench serve-floor`), into the sweep
//!   section of BENCHMARKS.md and BENCHMARKS-sweep.svg. Only run when named
//!   in `--scenarios`.
//! * `cargo xtask bench client`: decode throughput of the browser client in
//!   headless Chromium (MonitoringData events/s into JS objects and into
//!   Rust structs), and the npm package's size, raw and gzipped.

use crate::progress::Progress;
use crate::servers::Server;
use crate::util::{self, cmd};
use crate::{tools, wasm, wasm_tests};

pub fn run(args: Vec<String>) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("client") => client(),
        _ => servers(args),
    }
}

/// pushwire against the peer servers: builds both in release mode, runs
/// `pushwire-bench` (flags such as `--quick` or `--full` are passed on) and
/// writes BENCHMARKS.md and its SVG at the repository root.
fn servers(args: Vec<String>) -> Result<(), String> {
    if wants_cluster(&args) {
        // The cluster scenario runs only when asked for, on a local nats-server.
        let progress = Progress::new(&["install nats-server (apt)"]);
        let step = progress.start(0);
        tools::ensure_nats_server(&step)?;
        step.done();
    }
    // `--bin` names both: with only the server's, cargo builds no binary
    // of pushwire-bench and a stale one would run.
    util::build_release_server(&["-p", "pushwire-bench", "--bin", "pushwire-bench"])?;
    let command_line = format!("cargo xtask bench {}", args.join(" "))
        .trim_end()
        .to_owned();
    let bin = util::root().join("target/release/pushwire-bench");
    let mut c = cmd(&bin.to_string_lossy(), &[]);
    c.args(&args)
        .args(["--out", "BENCHMARKS.md", "--command-line", &command_line]);
    util::run(&mut c)
}

/// Whether `--scenarios` (as `--scenarios a,b` or `--scenarios=a,b`) names `cluster`.
fn wants_cluster(args: &[String]) -> bool {
    let mut lists: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--scenarios" {
            lists.extend(it.next().map(String::as_str));
        } else if let Some(list) = a.strip_prefix("--scenarios=") {
            lists.push(list);
        }
    }
    lists
        .iter()
        .any(|l| l.split(',').any(|s| s.trim() == "cluster"))
}

fn client() -> Result<(), String> {
    let mut steps = wasm::build_steps()?;
    steps.push("install chromium, chromium-driver and nats-server (apt)".to_owned());
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    let progress = Progress::new(&steps);
    std::thread::scope(|s| {
        let browser = s.spawn(|| {
            let step = progress.start(5);
            tools::ensure_system_packages(&step)?;
            step.done();
            Ok::<_, String>(())
        });
        let built = wasm::Inputs::of_checkout()
            .and_then(|inputs| wasm::build_package(&progress, 0, &inputs));
        let browser = browser
            .join()
            .map_err(|_| "installing the browser panicked")?;
        built.and(browser)
    })?;
    drop(progress);
    eprintln!("\npackage sizes (client-wasm/pkg):");
    eprint!("{}", wasm::PackageSize::of(&wasm::pkg_dir())?);

    util::build_release_server(&[])?;
    let server = Server::start_release(&["--cors-origins", "*", "--replay-capacity", "10000"])?;
    wasm_tests::run(
        wasm_tests::command(
            &[
                "--release",
                "--features",
                "bench",
                "--test",
                "throughput",
                "--",
                "--nocapture",
            ],
            600,
        )
        .env("PUSHWIRE_BENCH_SERVER", &server.url),
    )
}
