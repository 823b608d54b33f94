//! Progress of long, numbered steps (installs and builds that take minutes):
//! what is being done, step n of m, its elapsed time, what it is compiling
//! now and what comes next. In a terminal that is one line redrawn in place
//! (finished steps stay above it); elsewhere (CI, a log file) plain lines: a
//! step's start, a "still …" line every [`PLAIN_EVERY`], and its end.
//!
//! Commands run under a step are quiet: their output is kept and shown only
//! if they fail; cargo's `Compiling …` lines feed the step's detail.
//!
//! Not `indicatif`: it would draw only the redrawn line, while most of this
//! file is capturing commands' output, reading cargo's progress from it and
//! the plain mode for CI. `indicatif` 0.18 and its dependencies (7 crates)
//! also take 2.9 s to build on this 2-core machine, before xtask can start a
//! fresh `cargo xtask demo`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How often a plain (non-terminal) progress report says a step is still running.
const PLAIN_EVERY: Duration = Duration::from_secs(30);
/// How often the terminal line is redrawn.
const REDRAW_EVERY: Duration = Duration::from_millis(250);
/// The detail of a step that found nothing to do.
pub const ALREADY: &str = "already installed";
/// The detail of a build step whose output is current.
pub const UP_TO_DATE: &str = "up to date";
/// Lines of a command's output kept to show if it fails.
const KEPT_LINES: usize = 400;

/// A run of numbered steps, some of which may run at the same time.
pub struct Progress {
    shared: Arc<Shared>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    steps: Vec<String>,
    state: Mutex<State>,
    tty: bool,
    width: usize,
    stop: AtomicBool,
    started: Instant,
}

#[derive(Default)]
struct State {
    /// Index of each step that has started, with its start time.
    started: Vec<Option<Instant>>,
    /// Steps running now: (index, detail).
    running: Vec<(usize, String)>,
}

/// A running step; it ends (and says so) when dropped or [`Step::done`].
pub struct Step {
    shared: Arc<Shared>,
    index: usize,
    ended: bool,
}

fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn terminal_width() -> usize {
    let tty = std::fs::File::open("/dev/tty").ok();
    tty.and_then(|tty| {
        let out = Command::new("stty")
            .arg("size")
            .stdin(tty)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    })
    // A pseudo-terminal may report 0 columns.
    .filter(|w| *w > 0)
    .unwrap_or(80)
}

impl Progress {
    /// Progress over `steps` (their descriptions, in order).
    pub fn new(steps: &[&str]) -> Progress {
        let tty = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let shared = Arc::new(Shared {
            steps: steps.iter().map(|s| (*s).to_owned()).collect(),
            state: Mutex::new(State {
                started: vec![None; steps.len()],
                running: Vec::new(),
            }),
            tty,
            width: if tty { terminal_width() } else { 0 },
            stop: AtomicBool::new(false),
            started: Instant::now(),
        });
        let ticker = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || shared.tick())
        };
        Progress {
            shared,
            ticker: Some(ticker),
        }
    }

    /// Starts step `index` (0-based) of the list given to [`Progress::new`].
    pub fn start(&self, index: usize) -> Step {
        let mut state = self.shared.lock();
        state.started[index] = Some(Instant::now());
        state.running.push((index, String::new()));
        let next = self.shared.next(&state);
        let line = format!(
            "xtask: [{}/{}] {}{}",
            index + 1,
            self.shared.steps.len(),
            self.shared.steps[index],
            next
        );
        self.shared.print_above(&state, &line);
        drop(state);
        Step {
            shared: Arc::clone(&self.shared),
            index,
            ended: false,
        }
    }

    /// Time since the progress began.
    pub fn elapsed(&self) -> Duration {
        self.shared.started.elapsed()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        if self.shared.tty {
            eprint!("\r\x1b[2K");
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// " (next: …)" for the first step not started yet.
    fn next(&self, state: &State) -> String {
        state
            .started
            .iter()
            .position(Option::is_none)
            .map(|i| format!(" · next: {}", self.steps[i]))
            .unwrap_or_default()
    }

    fn status_line(&self, state: &State) -> String {
        let mut line = format!("xtask: {}", elapsed(self.started.elapsed()));
        for (index, detail) in &state.running {
            let since = state.started[*index]
                .map(|t| t.elapsed())
                .unwrap_or_default();
            line.push_str(&format!(
                " · {}/{} {} {}",
                index + 1,
                self.steps.len(),
                self.steps[*index],
                elapsed(since)
            ));
            if !detail.is_empty() {
                line.push_str(&format!(": {detail}"));
            }
        }
        line.push_str(&self.next(state));
        line
    }

    fn draw(&self, state: &State) {
        if !self.tty || state.running.is_empty() {
            return;
        }
        let line: String = self
            .status_line(state)
            .chars()
            .take(self.width.saturating_sub(1))
            .collect();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }

    fn print_above(&self, state: &State, line: &str) {
        {
            let mut err = std::io::stderr().lock();
            if self.tty {
                let _ = write!(err, "\r\x1b[2K");
            }
            let _ = writeln!(err, "{line}");
        }
        self.draw(state);
    }

    fn tick(&self) {
        let mut last_plain = Instant::now();
        while !self.stop.load(Ordering::SeqCst) {
            std::thread::sleep(REDRAW_EVERY);
            let state = self.lock();
            if self.tty {
                self.draw(&state);
            } else if last_plain.elapsed() >= PLAIN_EVERY && !state.running.is_empty() {
                last_plain = Instant::now();
                eprintln!(
                    "{}",
                    self.status_line(&state).replacen(" · ", " still: ", 1)
                );
            }
        }
    }
}

impl Step {
    /// Sets what the step is doing now (shown after its description).
    pub fn detail(&self, detail: impl Into<String>) {
        let mut state = self.shared.lock();
        if let Some(r) = state.running.iter_mut().find(|r| r.0 == self.index) {
            r.1 = detail.into();
        }
    }

    /// Runs `c` quietly as part of this step: cargo's `Compiling`,
    /// `Downloaded` and `Installing` lines become the step's detail; all
    /// output is shown only if the command fails.
    pub fn run(&self, c: &mut Command) -> Result<(), String> {
        let what = crate::util::describe(c);
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        let kept = Arc::new(Mutex::new(VecDeque::new()));
        let readers: Vec<_> = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|stream| {
            let kept = Arc::clone(&kept);
            let shared = Arc::clone(&self.shared);
            let index = self.index;
            std::thread::spawn(move || {
                let mut compiled = 0usize;
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let trimmed = line.trim_start();
                    let detail = if let Some(rest) = trimmed.strip_prefix("Compiling ") {
                        compiled += 1;
                        Some(format!("{compiled} crates, compiling {rest}"))
                    } else if let Some(rest) = trimmed.strip_prefix("Downloaded ") {
                        Some(format!("downloaded {rest}"))
                    } else {
                        trimmed
                            .strip_prefix("Installing ")
                            .map(|rest| format!("installing {rest}"))
                    };
                    if let Some(detail) = detail {
                        let mut state = shared.lock();
                        if let Some(r) = state.running.iter_mut().find(|r| r.0 == index) {
                            r.1 = detail;
                        }
                    }
                    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                    if kept.len() == KEPT_LINES {
                        kept.pop_front();
                    }
                    kept.push_back(line);
                }
            })
        })
        .collect();
        let status = child
            .wait()
            .map_err(|e| format!("cannot wait for {what}: {e}"))?;
        for r in readers {
            let _ = r.join();
        }
        if status.success() {
            return Ok(());
        }
        let kept = kept.lock().unwrap_or_else(|e| e.into_inner());
        let output: Vec<&str> = kept.iter().map(String::as_str).collect();
        Err(format!("{what} failed ({status}):\n{}", output.join("\n")))
    }

    /// Ends the step, printing how long it took.
    pub fn done(mut self) {
        self.end("done");
    }

    fn end(&mut self, how: &str) {
        if self.ended {
            return;
        }
        self.ended = true;
        let mut state = self.shared.lock();
        let skipped = state
            .running
            .iter()
            .find(|r| r.0 == self.index && [ALREADY, UP_TO_DATE].contains(&r.1.as_str()))
            .map(|r| r.1.clone());
        let how = match skipped {
            Some(detail) if how == "done" => detail,
            _ => how.to_owned(),
        };
        state.running.retain(|r| r.0 != self.index);
        let took = state.started[self.index]
            .map(|t| t.elapsed())
            .unwrap_or_default();
        let line = format!(
            "xtask: [{}/{}] {how}: {} ({})",
            self.index + 1,
            self.shared.steps.len(),
            self.shared.steps[self.index],
            elapsed(took)
        );
        self.shared.print_above(&state, &line);
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.end("stopped");
    }
}

/// `d` as "12.3s" or "4m05s".
pub fn human(d: Duration) -> String {
    elapsed(d)
}
