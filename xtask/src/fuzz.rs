//! `cargo xtask fuzz [--secs N] [--target NAME]`: the fuzz targets of `fuzz/`
//! (cargo-fuzz, libFuzzer), each run for N seconds, then what each did: runs
//! executed, coverage, corpus size, and the reproducer of a crash (which
//! makes the command fail). `cargo xtask test` runs every target briefly.
//!
//! On the stable toolchain: `--sanitizer none` is the only cargo-fuzz
//! setting that needs no `-Z` flag (AddressSanitizer is `-Zsanitizer`); the
//! code fuzzed is safe Rust, and overflow checks stay on
//! (`--debug-assertions`). Each target's working corpus is
//! `fuzz/corpus/<target>` (not committed), started from the committed seeds
//! in `fuzz/seeds/<target>`; crashes go to `fuzz/artifacts/<target>`. The
//! build has its own target folder, `target/fuzz`: its flags differ from
//! every other build's.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::progress::{self, Progress};
use crate::tools;
use crate::util::{self, cmd, root};

/// The fuzz targets, in `fuzz/fuzz_targets/`.
pub const TARGETS: [&str; 4] = ["sse_parser", "http_head", "query", "publish_body"];
/// Seconds per target of `cargo xtask fuzz` without `--secs`.
const DEFAULT_SECS: u64 = 60;
/// A single input taking longer than this (seconds) is reported as a hang.
const UNIT_TIMEOUT_SECS: u64 = 10;

/// Largest input libFuzzer tries, per target: a request head may be up to
/// 16 KiB (`MAX_REQUEST_HEAD`), so `http_head` needs room past that limit.
fn max_len(target: &str) -> usize {
    match target {
        "http_head" => 20 * 1024,
        _ => 4096,
    }
}

pub fn run(args: Vec<String>) -> Result<(), String> {
    let mut secs = DEFAULT_SECS;
    let mut targets: Vec<&str> = TARGETS.to_vec();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secs" => {
                secs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|&s| s > 0)
                    .ok_or("--secs needs a number of seconds")?;
            }
            "--target" => {
                let name = args.next().ok_or("--target needs a name")?;
                let known = TARGETS.iter().find(|t| **t == name.as_str());
                targets = vec![known.ok_or(format!(
                    "no fuzz target {name:?}; there are {}",
                    TARGETS.join(", ")
                ))?];
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: cargo xtask fuzz [--secs N] [--target NAME]"
                ))
            }
        }
    }
    install()?;
    campaign(&targets, Duration::from_secs(secs))
}

/// cargo-fuzz, with progress.
pub fn install() -> Result<(), String> {
    let p = Progress::new(&[&format!(
        "install cargo-fuzz {} (cargo install, about 1 min, once)",
        tools::CARGO_FUZZ_VERSION
    )]);
    let step = p.start(0);
    tools::ensure_cargo_fuzz(&step)?;
    step.done();
    Ok(())
}

/// Builds the targets, runs each for `each`, prints a summary; fails if any
/// target crashed or could not run.
pub fn campaign(targets: &[&str], each: Duration) -> Result<(), String> {
    let started = Instant::now();
    build(targets)?;
    eprintln!(
        "xtask: fuzz targets built in {}",
        progress::human(started.elapsed())
    );
    let mut reports = Vec::new();
    for target in targets {
        let report = run_target(target, each)?;
        eprintln!("xtask: {}", report.line());
        reports.push(report);
    }
    eprintln!("\nxtask: fuzzing, {} s per target", each.as_secs());
    for report in &reports {
        eprintln!("  {}", report.line());
    }
    let crashed: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            r.crash
                .as_ref()
                .map(|c| format!("{}: {}", r.target, c.display()))
        })
        .collect();
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found {} crash(es); reproduce with `cargo fuzz run --sanitizer none \
             --debug-assertions --target-dir target/fuzz <target> <file>` (see DEVELOPERS.md):\n{}",
            crashed.len(),
            crashed.join("\n")
        ))
    }
}

/// `cargo fuzz <subcommand>` with this project's build settings.
fn cargo_fuzz(subcommand: &str) -> Command {
    let mut c = cmd(
        "cargo",
        &[
            "fuzz",
            subcommand,
            "--sanitizer",
            "none",
            "--debug-assertions",
            "--fuzz-dir",
            "fuzz",
        ],
    );
    c.arg("--target-dir").arg(root().join("target/fuzz"));
    // cargo-fuzz puts its flags in RUSTFLAGS and appends the user's.
    c.env_remove("RUSTFLAGS").env_remove("CARGO_TARGET_DIR");
    c
}

fn build(targets: &[&str]) -> Result<(), String> {
    let p = Progress::new(&["build the fuzz targets (cargo fuzz build, release)"]);
    let step = p.start(0);
    let mut c = cargo_fuzz("build");
    if let [one] = targets {
        c.arg(one);
    }
    step.run(&mut c)?;
    step.done();
    Ok(())
}

/// What one target's run did.
struct Report {
    target: String,
    runs: Option<u64>,
    coverage: Option<String>,
    corpus: usize,
    crash: Option<PathBuf>,
    took: Duration,
}

impl Report {
    fn line(&self) -> String {
        let runs = self
            .runs
            .map_or("? runs".to_owned(), |r| format!("{r} runs"));
        let crashes = match &self.crash {
            None => "0 crashes".to_owned(),
            Some(path) => format!("CRASH, reproducer {}", path.display()),
        };
        format!(
            "{:<13} {runs:>14} in {:>6}, {}, corpus {} inputs, {crashes}",
            self.target,
            progress::human(self.took),
            self.coverage.as_deref().unwrap_or("coverage ?"),
            self.corpus,
        )
    }
}

fn fuzz_dir(kind: &str, target: &str) -> PathBuf {
    root().join("fuzz").join(kind).join(target)
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.filter_map(Result::ok).count())
}

/// Runs `target` for `time`; its libFuzzer log goes to `target/fuzz/logs`.
fn run_target(target: &str, time: Duration) -> Result<Report, String> {
    let corpus = fuzz_dir("corpus", target);
    let artifacts = fuzz_dir("artifacts", target);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let logs = root().join("target/fuzz/logs");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let log_path = logs.join(format!("{target}.log"));

    let mut c = cargo_fuzz("run");
    c.arg(target).arg(&corpus);
    let seeds = fuzz_dir("seeds", target);
    if seeds.is_dir() {
        c.arg(&seeds);
    }
    c.arg("--")
        .arg(format!("-max_total_time={}", time.as_secs()))
        .arg(format!("-timeout={UNIT_TIMEOUT_SECS}"))
        .arg(format!("-max_len={}", max_len(target)))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1");
    let dict = root().join("fuzz/dicts").join(format!("{target}.dict"));
    if dict.exists() {
        c.arg(format!("-dict={}", dict.display()));
    }
    eprintln!(
        "xtask: fuzzing {target} for {} s (log: {})",
        time.as_secs(),
        log_path.display()
    );
    let started = Instant::now();
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", util::describe(&c)))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut log = Vec::new();
    let (mut runs, mut coverage, mut crash) = (None, None, None);
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            runs = n.trim().parse().ok();
        }
        if let Some(status) = libfuzzer_status(&line) {
            coverage = Some(status);
        }
        if let Some(path) = line.split("Test unit written to ").nth(1) {
            crash = Some(PathBuf::from(path.trim()));
        }
        log.push(line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let took = started.elapsed();
    std::fs::write(&log_path, log.join("\n") + "\n")
        .map_err(|e| format!("{}: {e}", log_path.display()))?;
    if crash.is_none() && !status.success() {
        let tail = log[log.len().saturating_sub(40)..].join("\n");
        return Err(format!("fuzzing {target} failed ({status}):\n{tail}"));
    }
    if crash.is_some() {
        // What the target said: the panic, the input, how to reproduce and
        // minimise it (cargo-fuzz's own backtrace after that is noise).
        let from = log
            .iter()
            .position(|l| l.contains("panicked at") || l.contains("==ERROR"))
            .unwrap_or(log.len().saturating_sub(30));
        let to = log
            .iter()
            .rposition(|l| l.contains("cargo fuzz tmin"))
            .map_or(log.len(), |i| i + 1);
        eprintln!("{}", log[from..to.max(from)].join("\n"));
    }
    Ok(Report {
        target: target.to_owned(),
        runs,
        coverage,
        corpus: count_files(&corpus),
        crash,
        took,
    })
}

/// `cov: 1234 ft: 5678` from a libFuzzer status line such as
/// `#123456 DONE cov: 1234 ft: 5678 corp: 90/12Kb …`.
fn libfuzzer_status(line: &str) -> Option<String> {
    if !line.starts_with('#') {
        return None;
    }
    let cov = line.split(" cov: ").nth(1)?.split(' ').next()?;
    let ft = line.split(" ft: ").nth(1)?.split(' ').next()?;
    Some(format!("cov {cov} ft {ft}"))
}
