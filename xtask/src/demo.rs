//! `cargo xtask demo`: installs the npm package `pushwire-client` into the
//! demo page's `node_modules`, builds the server and serves the page; the
//! last line printed is the page's real address (from `--addr`, or the port
//! the system chose for `--addr 127.0.0.1:0`). It opens nothing by itself.
//!
//! The package is the committed build (see [`wasm`]) whenever it matches the
//! checkout, so a fresh machine needs no wasm toolchain: the wait is the
//! server's build. Otherwise the package is built while the server builds.
//!
//! Private topics are on ([`PRIVATE_TOPIC_FLAGS`]) unless the flags given
//! configure JWTs themselves. `cargo xtask demo --tls` serves it over HTTPS
//! and HTTP/2 with a self-signed certificate.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::progress::{self, Progress};
use crate::util::{cmd, root};
use crate::wasm::{self, Inputs};

/// The server is built with cargo's release settings minus what only slows
/// the build down for a demo: `opt-level = 1` and no debug info. Measured on
/// this 2-core machine under the same load: 170 s from scratch against 302 s
/// for `release` (opt-level 3, line tables); the demo's performance run
/// streams at the same rate (the browser, not the server, sets the pace:
/// `/sse/perf?count=200000&interval_ms=0` ran at 0.5–0.9 M events/s with
/// either build). Given as `--config` so the workspace's profiles stay as
/// they are.
pub const SERVER_PROFILE: [&str; 10] = [
    "--profile",
    "demo",
    "--config",
    "profile.demo.inherits=\"release\"",
    "--config",
    "profile.demo.debug=0",
    "--config",
    "profile.demo.opt-level=1",
    "--config",
    "profile.demo.strip=\"debuginfo\"",
];

/// Where [`SERVER_PROFILE`] puts the server.
pub const SERVER_BIN: &str = "target/demo/pushwire";

/// With `XTASK_DEMO_SERVER=debug` the demo runs the debug build instead:
/// `cargo xtask test` checks the demo command that way, on the server its
/// other suites built, rather than building the server a second time.
const DEBUG_SERVER_ENV: &str = "XTASK_DEMO_SERVER";

fn debug_server() -> bool {
    std::env::var(DEBUG_SERVER_ENV).is_ok_and(|v| v == "debug")
}

/// Builds the server for the demo as `step`.
fn build_server(step: &progress::Step) -> Result<(), String> {
    let mut c = cmd("cargo", &["build", "--locked"]);
    if !debug_server() {
        c.args(SERVER_PROFILE);
    }
    c.args(["-p", "pushwire-server", "--bin", "pushwire"]);
    step.run(&mut c)
}

pub fn run(flags: Vec<String>) -> Result<(), String> {
    // `--tls`: HTTPS and HTTP/2 with a certificate the server generates for
    // localhost and 127.0.0.1 (the browser asks once to accept it).
    let flags = flags
        .into_iter()
        .map(|f| {
            if f == "--tls" {
                "--tls-self-signed".to_owned()
            } else {
                f
            }
        })
        .collect();
    let (flags, secret) = with_private_topics(flags)?;
    let (progress, serve_step) = prepare("start the server")?;
    serve(progress, serve_step, &flags, secret.as_deref())
}

/// What the demo adds for private topics, with a fresh random JWT secret
/// (in `PUSHWIRE_JWT_SECRET`, out of `ps`): the page's own topics stay public, and the server mints the
/// demo user tokens that expire every 15 s, so the private panel shows a
/// stream outliving its tokens.
pub const PRIVATE_TOPIC_FLAGS: [&str; 4] = [
    "--public-topics",
    "demo,compare,monitoring,public.*",
    "--demo-token-ttl-ms",
    "15000",
];

/// `flags`, plus private topics and their secret unless they set any JWT
/// option themselves.
fn with_private_topics(mut flags: Vec<String>) -> Result<(Vec<String>, Option<String>), String> {
    let own = ["--jwt-", "--public-topics", "--demo-token-ttl-ms"];
    if flags.iter().any(|f| own.iter().any(|o| f.starts_with(o))) {
        return Ok((flags, None));
    }
    let mut random = [0u8; 16];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").map_err(|e| format!("/dev/urandom: {e}"))?,
        &mut random,
    )
    .map_err(|e| format!("/dev/urandom: {e}"))?;
    let secret: String = random.iter().map(|b| format!("{b:02x}")).collect();
    flags.extend(PRIVATE_TOPIC_FLAGS.iter().map(|f| (*f).to_owned()));
    Ok((flags, Some(secret)))
}

/// Builds what the demo page and the server need (the npm package in
/// `www/node_modules`, the release server), showing each step; returns the
/// progress and the index of its last step, `last` (what the caller starts).
pub fn prepare(last: &str) -> Result<(Progress, usize), String> {
    let inputs = Inputs::of_checkout()?;
    let committed = Inputs::committed();
    let reuse = committed.as_ref().is_some_and(|c| c.lines == inputs.lines);
    let progress;
    let serve_step;
    if reuse {
        progress = Progress::new(&[
            "install pushwire-client into www/node_modules (the committed build, current)",
            "build the server (about 1-3 min the first time)",
            last,
        ]);
        std::thread::scope(|s| {
            let package = s.spawn(|| {
                let step = progress.start(0);
                wasm::install_into_www(&step, &wasm::committed_dir())?;
                step.done();
                Ok::<_, String>(())
            });
            let step = progress.start(1);
            let server = build_server(&step);
            if server.is_ok() {
                step.done();
            }
            let package = package
                .join()
                .map_err(|_| "installing the package panicked")?;
            server.and(package)
        })?;
        serve_step = 2;
    } else {
        let why = match &committed {
            None => "there is none".to_owned(),
            Some(c) => format!("it differs in {}", inputs.differences(c).join(", ")),
        };
        eprintln!(
            "xtask: building pushwire-client from source: the committed build does not match \
             this checkout ({why}). `cargo xtask package` makes it match again."
        );
        let mut steps = wasm::build_steps()?;
        let n = steps.len();
        steps.extend([
            "install pushwire-client into www/node_modules".to_owned(),
            "build the server (about 1-3 min the first time)".to_owned(),
            last.to_owned(),
        ]);
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        progress = Progress::new(&steps);
        std::thread::scope(|s| {
            let server = s.spawn(|| {
                let step = progress.start(n + 1);
                build_server(&step)?;
                step.done();
                Ok::<_, String>(())
            });
            let package = (|| {
                wasm::build_package_unless_built(&progress, 0, &inputs)?;
                let step = progress.start(n);
                wasm::install_into_www(&step, &wasm::pkg_dir())?;
                step.done();
                Ok::<_, String>(())
            })();
            let server = server.join().map_err(|_| "building the server panicked")?;
            package.and(server)
        })?;
        serve_step = n + 2;
    }
    Ok((progress, serve_step))
}

/// Starts the server with `flags` and prints its address once it listens;
/// then passes its log through until it exits.
fn serve(
    progress: Progress,
    index: usize,
    flags: &[String],
    jwt_secret: Option<&str>,
) -> Result<(), String> {
    let step = progress.start(index);
    let bin = if debug_server() {
        "target/debug/pushwire"
    } else {
        SERVER_BIN
    };
    let mut c = Command::new(root().join(bin));
    c.current_dir(root());
    if !flags.iter().any(|f| f.starts_with("--www-dir")) {
        c.args(["--www-dir", "www"]);
    }
    if let Some(secret) = jwt_secret {
        c.env("PUSHWIRE_JWT_SECRET", secret);
    }
    let mut child = c
        .args(flags)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {bin}: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut step = Some(step);
    let mut progress = Some(progress);
    let mut log = Vec::new();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        match progress.as_ref() {
            // Before the server listens, its lines are kept for an error message.
            Some(_) => log.push(line.clone()),
            None => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        }
        if let Some(url) = line.split("pushwire listening on ").nth(1) {
            if let Some(step) = step.take() {
                step.done();
            }
            let took = progress.as_ref().map(Progress::elapsed).unwrap_or_default();
            drop(progress.take());
            for l in log.drain(..) {
                eprintln!("{l}");
            }
            eprintln!(
                "xtask: the demo is ready after {}: open {}/ (Ctrl-C stops it)",
                progress::human(took),
                url.trim()
            );
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    drop(step);
    drop(progress);
    if !log.is_empty() && !status.success() {
        for l in &log {
            eprintln!("{l}");
        }
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!("the server exited ({status})"))
    }
}
