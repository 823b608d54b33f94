// Support for the end-to-end tests: a real pushwire server process (killed
// and restarted at will on the same port), Debian's Chromium driven by
// playwright-core with a fresh profile, and publishing over HTTP.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SCREENSHOTS = join(ROOT, "target", "screenshots");
const BIN = process.env.PUSHWIRE_BIN ?? join(ROOT, "target", "debug", "pushwire");
/** Upper bound of any single wait in these tests. */
export const DEADLINE_MS = 20_000;

/** A free loopback port. */
export async function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/**
 * Starts `pushwire` on `port`, serving `wwwDir` (default www/); resolves once it listens.
 * With `tls`, over HTTPS with a certificate generated at start (`--tls-self-signed`).
 */
export async function startServer(port, extraArgs = [], { wwwDir = join(ROOT, "www"), tls = false } = {}) {
  const args = ["--addr", `127.0.0.1:${port}`, "--www-dir", wwwDir, "--monitoring-ms", "200", ...(tls ? ["--tls-self-signed"] : []), ...extraArgs];
  const proc = spawn(BIN, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_LOG: "info" } });
  let log = "";
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${log}`)), DEADLINE_MS);
    proc.stderr.on("data", (chunk) => {
      log += chunk;
      if (log.includes("pushwire listening on")) {
        clearTimeout(timer);
        ok();
      }
    });
    proc.once("exit", (code) => fail(new Error(`server exited with ${code}:\n${log}`)));
  });
  proc.stderr.resume();
  const url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  return {
    url,
    /** Kills the process with `signal` and waits until it is gone. */
    async kill(signal = "SIGKILL") {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((ok) => proc.once("exit", ok));
      proc.kill(signal);
      await exited;
    },
  };
}

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * A browser context on Debian's Chromium with a fresh profile directory;
 * `trustAnyCertificate` only for a server's generated test certificate.
 */
export async function openBrowser(viewport = { width: 1280, height: 800 }, { trustAnyCertificate = false } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "pushwire-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    args: trustAnyCertificate ? [...CHROMIUM_ARGS, "--ignore-certificate-errors"] : CHROMIUM_ARGS,
    headless: true,
    viewport,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the page and collects its console errors and uncaught exceptions. */
export async function openPage(context, url) {
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: DEADLINE_MS });
  return { page, errors };
}

/** Publishes over HTTP; returns the event id. */
export async function publish(base, topic, body) {
  const res = await fetch(`${base}/api/topics/${topic}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 202) throw new Error(`publish answered ${res.status}: ${JSON.stringify(json)}`);
  return json.id;
}

/** Waits until the connection panel's state text equals or matches `want`. */
export async function waitForState(page, want) {
  await page.waitForFunction(
    ([source, flags]) => new RegExp(source, flags).test(document.getElementById("state-text").textContent),
    want instanceof RegExp ? [want.source, want.flags] : [`^${want}$`, ""],
    { timeout: DEADLINE_MS },
  );
  return page.textContent("#state-text");
}

export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name);
}
