//! The npm package `pushwire-client`: built without wasm-pack, optimised for
//! size, byte for byte the same from any checkout, and kept in the repository
//! so that `cargo xtask demo` needs no wasm toolchain at all.
//!
//! The build ([`build_package`]): `cargo build --target wasm32-unknown-unknown
//! --profile wasm-release` (opt-level z, LTO, one codegen unit) with the
//! checkout's and cargo's folders remapped out of panic locations, then the
//! pinned `wasm-bindgen` CLI, binaryen's `wasm-opt -Oz` (see
//! [`tools::BINARYEN_VERSION`]), terser over the JavaScript (see
//! [`tools::TERSER_VERSION`]), and a `package.json`, README and licenses
//! written here.
//!
//! The committed copy ([`committed_dir`]) lives beside a record of what it was
//! built from ([`Inputs`]): the sources of the client and of every crate it
//! links (by SHA-256), this file (the recipe) and the tools' versions. The demo
//! uses the committed copy while the record matches the checkout;
//! `cargo xtask test` rebuilds the package and fails unless the committed
//! bytes and record are exactly what the rebuild gives, so it cannot go stale
//! unnoticed. `cargo xtask package` regenerates both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::progress::{Progress, Step};
use crate::util::{cmd, root};
use crate::{sha256, tools};

/// The npm package's name.
pub const NAME: &str = "pushwire-client";
/// The base name of the files wasm-bindgen writes.
const STEM: &str = "pushwire_client";

/// Where the package is built.
pub fn pkg_dir() -> PathBuf {
    root().join("client-wasm/pkg")
}

/// Where the committed build of the package lives.
pub fn committed_dir() -> PathBuf {
    root().join("xtask/prebuilt").join(NAME)
}

/// The record of what the committed build was made from.
pub fn committed_inputs_file() -> PathBuf {
    root().join("xtask/prebuilt").join(format!("{NAME}.inputs"))
}

/// The path (workspace) crates the client may link, and their folders.
const PATH_CRATES: [(&str, &str); 2] = [
    ("pushwire-client", "client-wasm"),
    ("pushwire-protocol", "protocol"),
];

/// The steps of [`build_package`], for a [`Progress`].
pub fn build_steps() -> Result<Vec<String>, String> {
    Ok(vec![
        "install the wasm32-unknown-unknown target (rustup)".into(),
        format!(
            "install wasm-bindgen-cli {} (cargo install; about 4 min, once)",
            tools::locked_wasm_bindgen_version()?
        ),
        format!(
            "install binaryen {} and terser {} (npm)",
            tools::BINARYEN_VERSION,
            tools::TERSER_VERSION
        ),
        "compile pushwire-client to wasm (wasm-release profile)".into(),
        "run wasm-bindgen, wasm-opt and terser, write package.json".into(),
    ])
}

/// Builds the package of `inputs` (this checkout's) into [`pkg_dir`], as
/// steps `first..first + 5` of `progress`: the tools are installed while the
/// client compiles.
pub fn build_package(progress: &Progress, first: usize, inputs: &Inputs) -> Result<(), String> {
    let record = built_inputs_file();
    if record.exists() {
        std::fs::remove_file(&record)
            .map_err(|e| format!("cannot remove {}: {e}", record.display()))?;
    }
    std::thread::scope(|s| {
        let bindgen = s.spawn(|| {
            let step = progress.start(first + 1);
            tools::ensure_wasm_bindgen(&step)?;
            step.done();
            Ok::<_, String>(())
        });
        let npm_tools = s.spawn(|| {
            let step = progress.start(first + 2);
            let tools = tools::ensure_npm_tools(&step)?;
            step.done();
            Ok::<_, String>(tools)
        });
        let compiled = (|| {
            let step = progress.start(first);
            tools::ensure_wasm_target(&step)?;
            step.done();
            let step = progress.start(first + 3);
            let wasm = compile(&step)?;
            step.done();
            Ok::<_, String>(wasm)
        })();
        let bindgen = bindgen
            .join()
            .map_err(|_| "the wasm-bindgen install panicked")?;
        let npm_tools = npm_tools
            .join()
            .map_err(|_| "the npm tools' install panicked")?;
        let (wasm, (), npm_tools) = (compiled?, bindgen?, npm_tools?);
        let step = progress.start(first + 4);
        assemble(&step, &wasm, &npm_tools)?;
        step.done();
        Ok::<_, String>(())
    })?;
    std::fs::write(&record, inputs.to_text())
        .map_err(|e| format!("cannot write {}: {e}", record.display()))
}

/// The record of the inputs of the build now in [`pkg_dir`].
fn built_inputs_file() -> PathBuf {
    root().join("target/package").join(format!("{NAME}.inputs"))
}

/// [`build_package`], unless [`pkg_dir`] already holds a build of exactly
/// `inputs` (so a second `cargo xtask demo` on changed sources is quick).
pub fn build_package_unless_built(
    progress: &Progress,
    first: usize,
    inputs: &Inputs,
) -> Result<(), String> {
    let built = std::fs::read_to_string(built_inputs_file()).ok();
    if built.as_deref() == Some(inputs.to_text().as_str())
        && pkg_dir().join("package.json").exists()
    {
        for i in first..first + 5 {
            let step = progress.start(i);
            step.detail(crate::progress::UP_TO_DATE);
            step.done();
        }
        return Ok(());
    }
    build_package(progress, first, inputs)
}

/// `CARGO_HOME`, where cargo keeps registry sources.
fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// Compiles the client; returns the path of its `.wasm`.
fn compile(step: &Step) -> Result<PathBuf, String> {
    // Panic locations embed source paths: remap the checkout and cargo's
    // home so that every checkout builds the same bytes. Set through
    // CARGO_ENCODED_RUSTFLAGS, which overrides any RUSTFLAGS of the user's.
    let remap = [
        format!("--remap-path-prefix={}=/pushwire", root().display()),
        format!("--remap-path-prefix={}=/cargo", cargo_home().display()),
    ];
    let target_dir = root().join("target/package");
    let mut c = cmd(
        "cargo",
        &[
            "build",
            "--locked",
            "-p",
            NAME,
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
            "--target-dir",
        ],
    );
    c.arg(&target_dir)
        .env("CARGO_ENCODED_RUSTFLAGS", remap.join("\x1f"))
        .env_remove("RUSTFLAGS");
    step.run(&mut c)?;
    Ok(target_dir.join(format!("wasm32-unknown-unknown/wasm-release/{STEM}.wasm")))
}

/// wasm-bindgen, wasm-opt, terser, then package.json, README and licenses,
/// into [`pkg_dir`].
fn assemble(step: &Step, wasm: &Path, tools: &tools::NpmTools) -> Result<(), String> {
    let out = pkg_dir();
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .map_err(|e| format!("cannot empty {}: {e}", out.display()))?;
    }
    step.detail("wasm-bindgen");
    let mut bindgen = cmd(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--weak-refs",
            "--out-name",
            STEM,
            "--out-dir",
        ],
    );
    bindgen.arg(&out).arg(wasm);
    step.run(&mut bindgen)?;
    step.detail("wasm-opt -Oz");
    let bg = out.join(format!("{STEM}_bg.wasm"));
    let mut opt = cmd(
        &tools.wasm_opt.to_string_lossy(),
        &[
            "-Oz",
            // Until nothing shrinks, assuming what holds for Rust's wasm:
            // the first 1 KiB of memory is unused, and memory starts zeroed
            // (together 0.4 KB gzipped).
            "--converge",
            "--low-memory-unused",
            "--zero-filled-memory",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
        ],
    );
    opt.arg(&bg).arg("-o").arg(&bg);
    step.run(&mut opt)?;
    step.detail("terser");
    for js in javascript_files(&out)? {
        let mut minify = cmd(
            &tools.terser.to_string_lossy(),
            &[
                "--module",
                "--compress",
                "--mangle",
                "--comments",
                "/@ts-self-types/",
                "--output",
            ],
        );
        minify.arg(&js).arg(&js);
        step.run(&mut minify)?;
    }
    for (from, to) in [
        ("client-wasm/README.md", "README.md"),
        ("LICENSE-MIT", "LICENSE-MIT"),
        ("LICENSE-APACHE", "LICENSE-APACHE"),
    ] {
        std::fs::copy(root().join(from), out.join(to))
            .map_err(|e| format!("cannot copy {from}: {e}"))?;
    }
    let manifest = package_json(&out)?;
    std::fs::write(out.join("package.json"), manifest)
        .map_err(|e| format!("cannot write package.json: {e}"))
}

/// The most the files a page loads from the package may weigh, gzipped
/// (`gzip -9`, each file on its own as a server sends it): the `.wasm`, the
/// glue and the snippets.
pub const MAX_GZIPPED_BYTES: usize = 35_000;

/// What a page loads from a package: each file's size, raw and gzipped.
pub struct PackageSize {
    /// `(path in the package, raw bytes, gzipped bytes)`.
    pub files: Vec<(String, usize, usize)>,
}

impl PackageSize {
    /// The sizes of the package in `dir`.
    pub fn of(dir: &Path) -> Result<PackageSize, String> {
        let mut paths = vec![dir.join(format!("{STEM}_bg.wasm"))];
        paths.extend(javascript_files(dir)?);
        let mut files = Vec::new();
        for path in paths {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            files.push((name, bytes.len(), gzipped_len(&bytes)?));
        }
        Ok(PackageSize { files })
    }

    /// All files, gzipped.
    pub fn gzipped(&self) -> usize {
        self.files.iter().map(|f| f.2).sum()
    }

    /// An error unless the package stays under [`MAX_GZIPPED_BYTES`].
    pub fn check(&self) -> Result<(), String> {
        if self.gzipped() < MAX_GZIPPED_BYTES {
            eprint!("{self}");
            Ok(())
        } else {
            Err(format!(
                "the package weighs {} B gzipped, over the {MAX_GZIPPED_BYTES} B budget:\n{self}",
                self.gzipped()
            ))
        }
    }
}

impl std::fmt::Display for PackageSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, raw, gz) in &self.files {
            writeln!(f, "  {name:<58} {raw:>7} B raw {gz:>7} B gzipped")?;
        }
        let raw: usize = self.files.iter().map(|f| f.1).sum();
        writeln!(
            f,
            "  {:<58} {raw:>7} B raw {:>7} B gzipped",
            "total",
            self.gzipped()
        )
    }
}

/// `bytes` compressed by `gzip -9`, in bytes.
fn gzipped_len(bytes: &[u8]) -> Result<usize, String> {
    use std::io::Write;
    let mut child = cmd("gzip", &["-9c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(bytes)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    Ok(out.stdout.len())
}

/// The package's JavaScript: the glue and the snippets under `snippets/`.
fn javascript_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            files.extend(javascript_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "js") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// `key = "value"` from a Cargo.toml's text (the first such line).
fn toml_string(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l
            .trim()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        Some(rest.strip_prefix('"')?.strip_suffix('"')?.to_owned())
    })
}

/// `key = ["a", "b"]` from a Cargo.toml's text.
fn toml_strings(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix(key)?
                .trim_start()
                .strip_prefix('=')
                .map(str::trim)
        })
        .map(|list| {
            list.trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| json_string(s)).collect();
    format!("[{}]", items.join(", "))
}

/// The package's `package.json`: what wasm-pack would write, plus an
/// `exports` map (the module, its types, the `.wasm` for bundlers that want
/// its URL, and package.json itself) and the license files.
fn package_json(out: &Path) -> Result<String, String> {
    let read = |p: &str| {
        std::fs::read_to_string(root().join(p)).map_err(|e| format!("cannot read {p}: {e}"))
    };
    let krate = read("client-wasm/Cargo.toml")?;
    let workspace = read("Cargo.toml")?;
    let field = |key: &str| {
        toml_string(&krate, key)
            .or_else(|| toml_string(&workspace, key))
            .ok_or(format!(
                "no {key} in client-wasm/Cargo.toml or the workspace"
            ))
    };
    let mut files = vec![
        format!("{STEM}_bg.wasm"),
        format!("{STEM}_bg.wasm.d.ts"),
        format!("{STEM}.js"),
        format!("{STEM}.d.ts"),
        "LICENSE-MIT".into(),
        "LICENSE-APACHE".into(),
    ];
    if out.join("snippets").is_dir() {
        files.push("snippets".into());
    }
    let keywords = toml_strings(&krate, "keywords");
    Ok(format!(
        r#"{{
  "name": {name},
  "type": "module",
  "description": {description},
  "version": {version},
  "license": {license},
  "repository": {{
    "type": "git",
    "url": {repository}
  }},
  "files": {files},
  "main": "{STEM}.js",
  "types": "{STEM}.d.ts",
  "exports": {{
    ".": {{
      "types": "./{STEM}.d.ts",
      "default": "./{STEM}.js"
    }},
    "./{STEM}_bg.wasm": "./{STEM}_bg.wasm",
    "./package.json": "./package.json"
  }},
  "sideEffects": ["./snippets/*"],
  "keywords": {keywords}
}}
"#,
        name = json_string(NAME),
        description = json_string(&field("description")?),
        version = json_string(&field("version")?),
        license = json_string(&field("license")?),
        repository = json_string(&field("repository")?),
        files = json_list(&files),
        keywords = json_list(&keywords),
    ))
}

/// What a build of the package is made from, one line each: the tools'
/// versions, then the SHA-256 of every source file it compiles or copies and
/// the name, version and checksum of every registry crate it may link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// `rustc -V` and its LLVM version.
    pub rustc: String,
    /// Everything else: the pinned tools, the recipe, the sources, the crates.
    pub lines: Vec<String>,
}

const INPUTS_HEADER: &str = "\
# What the committed pushwire-client package beside this file was built from.
# Written by `cargo xtask package`. `cargo xtask demo` uses the package while
# every line after `rustc` matches the checkout (the compiler that built it
# need not be the user's); `cargo xtask test` rebuilds it with the local rustc
# and fails unless this record and every byte of the package come out the same.
";

impl Inputs {
    /// The inputs of a build from this checkout, with the local rustc.
    pub fn of_checkout() -> Result<Inputs, String> {
        let rustc =
            crate::util::output(&mut cmd("rustc", &["-vV"])).ok_or("cannot run rustc -vV")?;
        let release = rustc.lines().next().unwrap_or_default().trim();
        let llvm = rustc
            .lines()
            .find_map(|l| l.strip_prefix("LLVM version: "))
            .unwrap_or("unknown");
        let mut lines = vec![
            format!("wasm-bindgen {}", tools::locked_wasm_bindgen_version()?),
            format!("binaryen {}", tools::BINARYEN_VERSION),
            format!("terser {}", tools::TERSER_VERSION),
        ];
        let lock = std::fs::read_to_string(root().join("Cargo.lock"))
            .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
        let crates = client_crates(&lock)?;
        let mut files = BTreeSet::new();
        for f in [
            "Cargo.toml",
            ".cargo/config.toml",
            "LICENSE-MIT",
            "LICENSE-APACHE",
            "xtask/src/wasm.rs",
            "client-wasm/README.md",
        ] {
            files.insert(PathBuf::from(f));
        }
        for krate in &crates {
            if krate.source.is_some() {
                continue;
            }
            let dir = PATH_CRATES
                .iter()
                .find(|(name, _)| *name == krate.name)
                .map(|(_, dir)| *dir)
                .ok_or(format!(
                    "the client links the workspace crate {}: add its folder to PATH_CRATES in xtask/src/wasm.rs",
                    krate.name
                ))?;
            files.insert(Path::new(dir).join("Cargo.toml"));
            for sub in ["src", "build.rs"] {
                collect_files(&root(), &Path::new(dir).join(sub), &mut files)?;
            }
        }
        for f in &files {
            let bytes = std::fs::read(root().join(f))
                .map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            lines.push(format!("file {} {}", sha256::hex(&bytes), f.display()));
        }
        for krate in crates.iter().filter(|k| k.source.is_some()) {
            lines.push(format!(
                "crate {} {} {}",
                krate.name,
                krate.version,
                krate.checksum.as_deref().unwrap_or("-")
            ));
        }
        Ok(Inputs {
            rustc: format!("{release} (LLVM {llvm})"),
            lines,
        })
    }

    /// The committed record, if there is one.
    pub fn committed() -> Option<Inputs> {
        let text = std::fs::read_to_string(committed_inputs_file()).ok()?;
        let mut lines = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty());
        let rustc = lines.next()?.strip_prefix("rustc ")?.to_owned();
        Some(Inputs {
            rustc,
            lines: lines.map(str::to_owned).collect(),
        })
    }

    fn to_text(&self) -> String {
        let mut text = format!("{INPUTS_HEADER}rustc {}\n", self.rustc);
        for l in &self.lines {
            text.push_str(l);
            text.push('\n');
        }
        text
    }

    /// How `self` (the checkout) differs from `committed`, in a few words.
    pub fn differences(&self, committed: &Inputs) -> Vec<String> {
        let mine: BTreeSet<&String> = self.lines.iter().collect();
        let theirs: BTreeSet<&String> = committed.lines.iter().collect();
        let name = |l: &str| -> String {
            let parts: Vec<&str> = l.split(' ').collect();
            match parts.as_slice() {
                ["file", _, path] => (*path).to_owned(),
                ["crate", name, ..] => format!("crate {name}"),
                [tool, ..] => (*tool).to_owned(),
                [] => String::new(),
            }
        };
        let changed: BTreeSet<String> = mine
            .symmetric_difference(&theirs)
            .map(|l| name(l))
            .collect();
        let mut out: Vec<String> = changed.into_iter().collect();
        if self.rustc != committed.rustc {
            out.push(format!(
                "rustc (built with {}, this is {})",
                committed.rustc, self.rustc
            ));
        }
        out
    }
}

fn collect_files(root: &Path, rel: &Path, into: &mut BTreeSet<PathBuf>) -> Result<(), String> {
    let path = root.join(rel);
    if path.is_file() {
        into.insert(rel.to_path_buf());
    } else if path.is_dir() {
        let entries =
            std::fs::read_dir(&path).map_err(|e| format!("cannot list {}: {e}", path.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            collect_files(root, &rel.join(entry.file_name()), into)?;
        }
    }
    Ok(())
}

/// A `[[package]]` of Cargo.lock.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct LockedCrate {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    dependencies: Vec<String>,
}

fn parse_lock(lock: &str) -> Vec<LockedCrate> {
    let mut crates = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let mut krate = LockedCrate {
            name: toml_string(block, "name").unwrap_or_default(),
            version: toml_string(block, "version").unwrap_or_default(),
            source: toml_string(block, "source"),
            checksum: toml_string(block, "checksum"),
            dependencies: Vec::new(),
        };
        if let Some(deps) = block.split("dependencies = [").nth(1) {
            let deps = deps.split(']').next().unwrap_or_default();
            krate.dependencies = deps
                .lines()
                .map(|l| l.trim().trim_end_matches(',').trim_matches('"').to_owned())
                .filter(|l| !l.is_empty())
                .collect();
        }
        crates.push(krate);
    }
    crates
}

/// Every crate of Cargo.lock reachable from the client (for any target and
/// kind of dependency: a superset of what it links, which only makes the
/// record change more often than it must, never less).
fn client_crates(lock: &str) -> Result<Vec<LockedCrate>, String> {
    let crates = parse_lock(lock);
    // A dependency is written "name", "name version" or "name version (source)".
    let find = |dep: &str| -> Option<&LockedCrate> {
        let mut parts = dep.splitn(3, ' ');
        let name = parts.next()?;
        let version = parts.next();
        crates
            .iter()
            .find(|c| c.name == name && version.is_none_or(|v| v == c.version))
    };
    let start = crates
        .iter()
        .find(|c| c.name == NAME && c.source.is_none())
        .ok_or(format!("{NAME} is not in Cargo.lock"))?;
    let mut seen: BTreeMap<(String, String), &LockedCrate> = BTreeMap::new();
    let mut todo = vec![start];
    while let Some(c) = todo.pop() {
        if seen
            .insert((c.name.clone(), c.version.clone()), c)
            .is_some()
        {
            continue;
        }
        for dep in &c.dependencies {
            todo.push(find(dep).ok_or(format!(
                "Cargo.lock: {} depends on {dep}, which it does not list",
                c.name
            ))?);
        }
    }
    Ok(seen.into_values().cloned().collect())
}

/// Writes the package built in [`pkg_dir`] and `inputs` as the committed build.
pub fn commit_build(inputs: &Inputs) -> Result<(), String> {
    let dir = committed_dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot empty {}: {e}", dir.display()))?;
    }
    copy_tree(&pkg_dir(), &dir)?;
    std::fs::write(committed_inputs_file(), inputs.to_text())
        .map_err(|e| format!("cannot write the inputs record: {e}"))
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot list {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest)
                .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Every file under `dir`, relative, with its bytes.
pub fn tree_bytes(dir: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>, String> {
    let mut files = BTreeSet::new();
    collect_files(dir, Path::new(""), &mut files)?;
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f))
                .map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            Ok((f, bytes))
        })
        .collect()
}

/// The files that differ between two package folders (missing on either side or different bytes).
pub fn differing_files(a: &Path, b: &Path) -> Result<Vec<String>, String> {
    let (a, b) = (tree_bytes(a)?, tree_bytes(b)?);
    let names: BTreeSet<&PathBuf> = a.keys().chain(b.keys()).collect();
    Ok(names
        .into_iter()
        .filter(|n| a.get(*n) != b.get(*n))
        .map(|n| n.display().to_string())
        .collect())
}

/// Packs the package in `dir` and installs the tarball into
/// `www/node_modules`, so the demo page imports `pushwire-client` exactly as
/// an npm user would. Does nothing when the installed files are already these.
pub fn install_into_www(step: &Step, dir: &Path) -> Result<(), String> {
    let installed = root().join("www/node_modules").join(NAME);
    let same = matches!((tree_bytes(dir), tree_bytes(&installed)), (Ok(a), Ok(b)) if a == b);
    if same {
        step.detail(crate::progress::ALREADY);
        return Ok(());
    }
    let npm_dir = root().join("target/npm");
    std::fs::create_dir_all(&npm_dir)
        .map_err(|e| format!("cannot create {}: {e}", npm_dir.display()))?;
    let mut pack = cmd("npm", &["pack", "--silent", "--pack-destination"]);
    pack.arg(&npm_dir).current_dir(dir);
    step.detail("npm pack");
    let tarball = crate::util::output(&mut pack).ok_or("npm pack failed")?;
    let tarball = npm_dir.join(tarball.trim());
    step.detail("npm install");
    step.run(&mut crate::util::npm_install_command(
        "www",
        &tarball.to_string_lossy(),
    ))
}
