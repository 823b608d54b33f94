// The npm package as a Vite 7 user gets it (installed into bundler/ by
// `cargo xtask test`): built by `vite build` and served by pushwire, and
// served by Vite's dev server with the workaround of the client's README,
// each loaded in Debian's Chromium against a real pushwire server. The page
// must receive exactly the counter's events 0, 1, 2 and its end.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { build, createServer } from "vite";
import { DEADLINE_MS, ROOT, freePort, openBrowser, startServer } from "../e2e/support.js";

const APP = dirname(fileURLToPath(import.meta.url));
const EXPECTED = [
  { data: 0, id: "0" },
  { data: 1, id: "1" },
  { data: 2, id: "2" },
];

/** Opens `url` and returns what the page's client received, and the page's errors. */
async function received(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  try {
    await page.goto(url);
    await page.waitForSelector("body[data-done=true]", { timeout: DEADLINE_MS, state: "attached" });
    return { ...(await page.evaluate(() => window.received)), pageErrors: errors };
  } catch (e) {
    throw new Error(`${url}: ${e.message}\npage errors: ${JSON.stringify(errors)}`);
  } finally {
    await page.close();
  }
}

function assertCounted(got) {
  assert.deepEqual(got.events, EXPECTED);
  assert.deepEqual(got.end, { reason: "complete" });
  assert.deepEqual(got.errors, []);
  assert.deepEqual(got.pageErrors, []);
}

/** A Vite dev server on a free port; `optimizeDeps` as given. */
async function devServer(optimizeDeps) {
  const cacheDir = mkdtempSync(join(tmpdir(), "pushwire-vite-"));
  const server = await createServer({
    root: APP,
    configFile: false,
    cacheDir,
    logLevel: "warn",
    optimizeDeps,
    server: { host: "127.0.0.1", port: await freePort(), strictPort: true },
  });
  await server.listen();
  return {
    url: server.resolvedUrls.local[0].replace(/\/$/, ""),
    async close() {
      await server.close();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
}

describe("pushwire-client in a Vite 7 app", () => {
  let browser;
  let api;
  before(async () => {
    browser = await openBrowser();
    // The dev server's pages come from another origin.
    api = await startServer(await freePort(), ["--cors-origins", "*"]);
  });
  after(async () => {
    await browser?.close();
    await api?.kill();
  });

  test("vite build: the built app, served by pushwire, receives the counter", { timeout: 120_000 }, async () => {
    const outDir = mkdtempSync(join(ROOT, "target", "vite-build-"));
    try {
      await build({
        root: APP,
        logLevel: "warn",
        build: {
          outDir,
          emptyOutDir: true,
          rollupOptions: { input: { index: join(APP, "index.html"), url: join(APP, "url.html") } },
        },
      });
      const server = await startServer(await freePort(), [], { wwwDir: outDir });
      try {
        assertCounted(await received(browser.context, `${server.url}/index.html`));
        assertCounted(await received(browser.context, `${server.url}/url.html`));
      } finally {
        await server.kill();
      }
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });

  test("vite dev with optimizeDeps.exclude: the app receives the counter", { timeout: 120_000 }, async () => {
    const vite = await devServer({ exclude: ["pushwire-client"] });
    try {
      assertCounted(await received(browser.context, `${vite.url}/?server=${api.url}`));
    } finally {
      await vite.close();
    }
  });

  test("vite dev, pre-bundled, with the wasm URL given to init: the app receives the counter", { timeout: 120_000 }, async () => {
    const vite = await devServer({});
    try {
      assertCounted(await received(browser.context, `${vite.url}/url.html?server=${api.url}`));
    } finally {
      await vite.close();
    }
  });
});
