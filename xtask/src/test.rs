//! `cargo xtask test`: formatting, lints, docs, every test suite of the
//! workspace (native; the browser client in headless Chromium against real
//! servers; the npm package rebuilt and compared with the committed build;
//! the demo page end to end on the package the demo uses; the package in a
//! Vite app; the demo command itself; each fuzz target for a few seconds),
//! then the time each took, so that the cost of every suite stays visible.

use std::time::{Duration, Instant};

use crate::fuzz;
use crate::progress::{self, Progress};
use crate::servers::{dead_url, Server};
use crate::tools;
use crate::util::{self, cmd, root};
use crate::wasm::{self, Inputs};
use crate::wasm_tests;

/// How long the fuzz suite runs each target: a smoke test that the targets
/// build and run; `cargo xtask fuzz` is the real campaign.
const FUZZ_SMOKE: Duration = Duration::from_secs(5);

/// Each suite's name and time, reported at the end whether or not all
/// passed. A failed suite does not stop the others (every failure is listed
/// at the end) unless later suites need what it makes.
#[derive(Default)]
struct Timings {
    suites: Vec<(String, Duration, bool)>,
    failures: Vec<String>,
}

impl Timings {
    /// Runs `suite` as `name`, timing it; a failure is kept for the end.
    fn run(&mut self, name: &str, suite: impl FnOnce() -> Result<(), String>) {
        eprintln!("\nxtask: ── {name} ──");
        let started = Instant::now();
        let result = suite();
        self.suites
            .push((name.to_owned(), started.elapsed(), result.is_ok()));
        if let Err(e) = result {
            eprintln!("xtask: FAILED: {name}: {e}");
            self.failures.push(format!("{name}: {e}"));
        }
    }

    /// [`Timings::run`] for a suite the later ones need: its failure stops the run.
    fn must(&mut self, name: &str, suite: impl FnOnce() -> Result<(), String>) -> Result<(), ()> {
        self.run(name, suite);
        if self.suites.last().is_some_and(|s| s.2) {
            Ok(())
        } else {
            Err(())
        }
    }

    fn print(&self, total: Duration) {
        eprintln!("\nxtask: time per suite");
        for (name, took, ok) in &self.suites {
            let mark = if *ok { "" } else { "  FAILED" };
            eprintln!("  {:>8}  {name}{mark}", progress::human(*took));
        }
        eprintln!("  {:>8}  total", progress::human(total));
    }
}

/// Every suite; with `chromium`, only the client's wasm tests in Chromium,
/// with `demo`, only `cargo xtask demo` (plain and `--tls`), the tools
/// installed beforehand.
pub fn run(args: Vec<String>) -> Result<(), String> {
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => {}
        ["chromium"] => return browser_tests(),
        ["demo"] => return demo_serves(false).and_then(|()| demo_serves(true)),
        _ => {
            return Err(format!(
                "unknown arguments {args:?}; try `cargo xtask test [chromium|demo]`"
            ))
        }
    }
    let started = Instant::now();
    let mut timings = Timings::default();
    let _stopped = suites(&mut timings);
    timings.print(started.elapsed());
    match timings.failures.len() {
        0 => Ok(()),
        n => Err(format!(
            "{n} suite(s) failed:\n{}",
            timings.failures.join("\n")
        )),
    }
}

fn clippy_native() -> Result<(), String> {
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
    ))
}

/// The browser client and the protocol crate, as they build for the web.
fn clippy_wasm() -> Result<(), String> {
    util::run(&mut cmd(
        "cargo",
        &[
            "clippy",
            "--quiet",
            "-p",
            "pushwire-client",
            "--all-targets",
            "--target",
            "wasm32-unknown-unknown",
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
    ))
}

fn suites(t: &mut Timings) -> Result<(), ()> {
    t.must("install what is missing", install)?;
    t.run("cargo fmt --check", || {
        util::run(&mut cmd("cargo", &["fmt", "--all", "--", "--check"]))?;
        // fuzz/ is its own workspace, which `--all` does not reach.
        util::run(&mut cmd(
            "cargo",
            &["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"],
        ))
    });
    t.run("cargo clippy (native)", clippy_native);
    t.run("cargo clippy (wasm32)", clippy_wasm);
    t.run("cargo doc (warnings are errors)", || {
        util::run(
            cmd("cargo", &["doc", "--no-deps", "--workspace", "--quiet"])
                .env("RUSTDOCFLAGS", "-D warnings"),
        )
    });
    t.run("cargo test (native)", || {
        util::run(&mut cmd("cargo", &["test", "--workspace"]))
    });
    t.run("client in Chromium (wasm32 cargo test)", browser_tests);
    let mut committed = Ok(());
    t.must(
        "npm package: rebuild, compare with the committed build",
        || {
            committed = package_matches_committed()?;
            Ok(())
        },
    )?;
    // The demo's own path (the committed build) when it is current, else the rebuild.
    let package = if committed.is_ok() {
        wasm::committed_dir()
    } else {
        wasm::pkg_dir()
    };
    t.run(
        &format!(
            "npm package under {} B gzipped (wasm, glue, snippets)",
            wasm::MAX_GZIPPED_BYTES
        ),
        || wasm::PackageSize::of(&package)?.check(),
    );
    t.run("demo page end to end (Chromium, playwright)", || {
        end_to_end_tests(&package)
    });
    t.run("bundler: the package in a Vite 7 app", || {
        bundler_tests(&package)
    });
    t.run("cargo xtask demo serves the page", || demo_serves(false));
    t.run("cargo xtask demo --tls serves it over HTTP/2", || {
        demo_serves(true)
    });
    t.run(
        &format!("fuzz targets, {} s each (cargo fuzz)", FUZZ_SMOKE.as_secs()),
        || fuzz::campaign(&fuzz::TARGETS, FUZZ_SMOKE),
    );
    t.run("the committed npm package is current", || committed);
    Ok(())
}

/// Everything the suites need, installed at the same time.
fn install() -> Result<(), String> {
    let version = tools::locked_wasm_bindgen_version()?;
    let steps = [
        "install the wasm32-unknown-unknown target (rustup)".to_owned(),
        format!("install wasm-bindgen-cli {version} (cargo install, about 4 min, once)"),
        format!(
            "install binaryen {} and terser {} (npm)",
            tools::BINARYEN_VERSION,
            tools::TERSER_VERSION
        ),
        "install chromium, chromium-driver and nats-server (apt)".to_owned(),
        "install the end-to-end tests' npm packages (npm ci)".to_owned(),
        format!(
            "install cargo-fuzz {} (cargo install, about 1 min, once)",
            tools::CARGO_FUZZ_VERSION
        ),
    ];
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    let p = Progress::new(&steps);
    let p = &p;
    std::thread::scope(|s| {
        let jobs = [
            s.spawn(move || {
                let step = p.start(1);
                tools::ensure_wasm_bindgen(&step).map(|()| step.done())
            }),
            s.spawn(move || {
                let step = p.start(2);
                tools::ensure_npm_tools(&step).map(|_| step.done())
            }),
            s.spawn(move || {
                let step = p.start(3);
                tools::ensure_system_packages(&step).map(|()| step.done())
            }),
            s.spawn(move || {
                let step = p.start(4);
                tools::ensure_e2e_packages(&step).map(|()| step.done())
            }),
            s.spawn(move || {
                let step = p.start(5);
                tools::ensure_cargo_fuzz(&step).map(|()| step.done())
            }),
        ];
        let step = p.start(0);
        let mut result = tools::ensure_wasm_target(&step).map(|()| step.done());
        for job in jobs {
            let r = job
                .join()
                .unwrap_or_else(|_| Err("an install panicked".into()));
            result = result.and(r);
        }
        result
    })
}

/// Rebuilds the package and compares it, and the record of its inputs, with
/// the committed build. The outer error is a failed build; the inner one
/// says the committed build is stale (reported after the other suites ran).
fn package_matches_committed() -> Result<Result<(), String>, String> {
    let before = Inputs::of_checkout()?;
    let steps = wasm::build_steps()?;
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    let p = Progress::new(&steps);
    wasm::build_package(&p, 0, &before)?;
    drop(p);
    if Inputs::of_checkout()? != before {
        return Err("the client's sources changed during the build; run again".into());
    }
    let stale = |why: String| {
        Ok(Err(format!(
            "the committed build of pushwire-client (xtask/prebuilt) is stale: {why}.\n\
             Run `cargo xtask package` and commit xtask/prebuilt."
        )))
    };
    let Some(committed) = Inputs::committed() else {
        return stale("there is none".into());
    };
    let record = before.differences(&committed);
    if !record.is_empty() {
        return stale(format!(
            "its record of inputs differs in {}",
            record.join(", ")
        ));
    }
    let files = wasm::differing_files(&wasm::pkg_dir(), &wasm::committed_dir())?;
    if !files.is_empty() {
        return stale(format!(
            "the rebuild differs in {} (same inputs: the build is not reproducible?)",
            files.join(", ")
        ));
    }
    eprintln!("xtask: the committed build is byte for byte the rebuild");
    Ok(Ok(()))
}

/// Installs `package` into www/node_modules as the demo does.
fn install_package(package: &std::path::Path) -> Result<(), String> {
    let p = Progress::new(&["install pushwire-client into www/node_modules"]);
    let step = p.start(0);
    wasm::install_into_www(&step, package)?;
    step.done();
    Ok(())
}

/// The demo page in Chromium, driven by playwright-core (node's test runner),
/// against real servers the tests start, kill and restart themselves. The
/// page imports the npm package, installed as `cargo xtask demo` installs it.
fn end_to_end_tests(package: &std::path::Path) -> Result<(), String> {
    install_package(package)?;
    // The package's TypeScript declarations, checked as a TS user would use them.
    let mut types = cmd("npm", &["run", "--silent", "types"]);
    types.current_dir(root().join("tests"));
    util::run(&mut types)?;
    let mut c = cmd("npm", &["test", "--silent"]);
    c.current_dir(root().join("tests"))
        .env("PUSHWIRE_BIN", root().join("target/debug/pushwire"));
    util::run(&mut c)
}

/// The package as a Vite user gets it: packed, installed into a tiny app,
/// built by `vite build` and served by `vite` (dev) with the workaround the
/// client's README gives, each loaded in Chromium against a real server.
fn bundler_tests(package: &std::path::Path) -> Result<(), String> {
    let app = root().join("tests/bundler");
    let npm_dir = root().join("target/npm");
    std::fs::create_dir_all(&npm_dir).map_err(|e| e.to_string())?;
    let mut pack = cmd("npm", &["pack", "--silent", "--pack-destination"]);
    pack.arg(&npm_dir).current_dir(package);
    let tarball = util::output(&mut pack).ok_or("npm pack failed")?;
    util::run_quiet(&mut util::npm_install_command(
        &app.to_string_lossy(),
        &npm_dir.join(tarball.trim()).to_string_lossy(),
    ))?;
    let mut c = cmd("npm", &["run", "--silent", "bundler"]);
    c.current_dir(root().join("tests"))
        .env("PUSHWIRE_BIN", root().join("target/debug/pushwire"));
    util::run(&mut c)
}

/// `cargo xtask demo --addr 127.0.0.1:0` installs the package, starts the
/// server and prints the address it really listens on; that address serves
/// the page and the package the demo installed (read with curl). With `tls`,
/// `cargo xtask demo --tls` does so over HTTPS and HTTP/2. The demo runs the
/// debug server built above (`XTASK_DEMO_SERVER=debug`), not a second build.
fn demo_serves(tls: bool) -> Result<(), String> {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut args = vec!["demo", "--addr", "127.0.0.1:0"];
    if tls {
        args.push("--tls");
    }
    // Its own process group, so that the server it starts stops with it, as on Ctrl-C.
    let mut child = std::process::Command::new(exe)
        .args(&args)
        .process_group(0)
        .current_dir(root())
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .env("CI", "1")
        .env("XTASK_DEMO_SERVER", "debug")
        .spawn()
        .map_err(|e| format!("cannot run xtask demo: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("  | {line}");
            if let Some(url) = line.split(": open ").nth(1) {
                let url = url.split(' ').next().unwrap_or_default().to_owned();
                let _ = tx.send(url);
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(900));
    let checked = url
        .map_err(|_| "xtask demo printed no address".to_owned())
        .and_then(|url| {
            let scheme = if tls { "https://" } else { "http://" };
            if !url.starts_with(scheme) {
                return Err(format!("not an {scheme} URL: {url}"));
            }
            let base = url.trim_end_matches('/').to_owned();
            let dir = root().join("target/demo-check");
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            // The body into `file`; the status and the HTTP version.
            let get = |path: &str, file: &str| -> Result<(Vec<u8>, String), String> {
                let out = dir.join(file);
                let mut c = cmd(
                    "curl",
                    &[
                        "-sS",
                        "--max-time",
                        "30",
                        "-w",
                        "%{http_code} %{http_version}",
                        "-o",
                    ],
                );
                c.arg(&out);
                if tls {
                    // The demo's certificate is generated at start: nobody vouches for it.
                    c.args(["--insecure", "--http2"]);
                }
                c.arg(format!("{base}{path}"));
                let answer = util::output(&mut c).ok_or(format!("curl {base}{path} failed"))?;
                let body = std::fs::read(&out).map_err(|e| e.to_string())?;
                Ok((body, answer))
            };
            let want = if tls { "200 2" } else { "200 1.1" };
            let (page, answer) = get("/", "index.html")?;
            let page = String::from_utf8_lossy(&page);
            if answer != want || !page.contains("pushwire-client") {
                return Err(format!(
                    "{base}/ answered {answer}, not the demo page:\n{page}"
                ));
            }
            let (wasm, answer) = get(
                "/node_modules/pushwire-client/pushwire_client_bg.wasm",
                "client.wasm",
            )?;
            let installed = std::fs::read(
                root().join("www/node_modules/pushwire-client/pushwire_client_bg.wasm"),
            )
            .map_err(|e| e.to_string())?;
            if answer != want || wasm != installed {
                return Err(format!(
                    "the demo did not serve the installed package's .wasm ({answer})"
                ));
            }
            eprintln!("xtask: the demo served its page and package at {base}/ ({answer})");
            Ok(())
        });
    let group = format!("-{}", child.id());
    let _ = util::run_quiet(&mut cmd("kill", &["-INT", "--", &group]));
    let _ = child.wait();
    checked
}

/// The client's wasm tests in headless Chromium against real servers.
fn browser_tests() -> Result<(), String> {
    util::run(&mut cmd(
        "cargo",
        &[
            "build",
            "--quiet",
            "-p",
            "pushwire-server",
            "--bin",
            "pushwire",
        ],
    ))?;
    let main = Server::start(&["--cors-origins", "*", "--monitoring-ms", "100"])?;
    let rotating = Server::start(&["--cors-origins", "*", "--stream-lifetime-ms", "400"])?;
    // Private topics: the tests sign their tokens with this secret.
    let secret = format!("client-tests-{}", std::process::id());
    let auth = Server::start(&[
        "--cors-origins",
        "*",
        "--jwt-secret",
        &secret,
        "--public-topics",
        "public.*",
    ])?;
    let dead = dead_url()?;
    wasm_tests::run(
        wasm_tests::command(&[], 300)
            .env("PUSHWIRE_TEST_SERVER", &main.url)
            .env("PUSHWIRE_TEST_ROTATING_SERVER", &rotating.url)
            .env("PUSHWIRE_TEST_AUTH_SERVER", &auth.url)
            .env("PUSHWIRE_TEST_JWT_SECRET", &secret)
            .env("PUSHWIRE_TEST_DEAD_URL", &dead),
    )
}
