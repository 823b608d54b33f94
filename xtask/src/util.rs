//! Running commands from the workspace root, with clear errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (the parent of this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A command run in the workspace root.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).current_dir(root());
    c
}

/// Runs `c`, printing it first, and fails unless it succeeds.
pub fn run(c: &mut Command) -> Result<(), String> {
    eprintln!("xtask: $ {}", describe(c));
    let status = c
        .status()
        .map_err(|e| format!("cannot run {}: {e}", describe(c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(c)))
    }
}

/// Runs `c` silently; its output is shown only if it fails.
pub fn run_quiet(c: &mut Command) -> Result<(), String> {
    let out = c
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", describe(c)))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed ({}):\n{}{}",
            describe(c),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The stdout of `c`, or `None` if it cannot run or fails.
pub fn output(c: &mut Command) -> Option<String> {
    let out = c.stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `c` as a shell-like line, for messages.
pub fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// `npm install` of `package` (a name@version or a tarball path) into
/// `prefix`/node_modules, without touching any package.json or lock file.
pub fn npm_install_command(prefix: &str, package: &str) -> Command {
    cmd(
        "npm",
        &[
            "install",
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            "--prefix",
            prefix,
            package,
        ],
    )
}

/// Builds the release `pushwire` binary (and any extra packages).
pub fn build_release_server(extra: &[&str]) -> Result<(), String> {
    let mut args = vec![
        "build",
        "--quiet",
        "--release",
        "-p",
        "pushwire-server",
        "--bin",
        "pushwire",
    ];
    args.extend_from_slice(extra);
    run(&mut cmd("cargo", &args))
}
