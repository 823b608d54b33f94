// End-to-end: the demo page in Debian's Chromium against a real server.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEADLINE_MS, freePort, openBrowser, openPage, publish, screenshotPath, startServer, waitForState } from "./support.js";

describe("the demo page", () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer(await freePort(), ["--node-name", "e2e-node"]);
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.kill();
  });

  test("loads cleanly and every live panel works", { timeout: 90_000 }, async () => {
    const { page, errors } = await openPage(browser.context, `${server.url}/?demoInterval=20`);
    await waitForState(page, "open");

    // The header names the node answering the page.
    await page.waitForFunction(() => document.getElementById("node").textContent === "e2e-node", null, { timeout: DEADLINE_MS });

    // The counter advances.
    await page.waitForFunction(() => Number(document.getElementById("counter-value").textContent) >= 0, null, { timeout: DEADLINE_MS });
    const first = Number(await page.textContent("#counter-value"));
    await page.waitForFunction((n) => Number(document.getElementById("counter-value").textContent) > n, first, { timeout: DEADLINE_MS });

    // The monitoring charts gain points, with numbers beside them.
    await page.waitForFunction(() => [...document.querySelectorAll("#charts canvas")].every((c) => Number(c.dataset.points) >= 3), null, { timeout: DEADLINE_MS });
    const memory = await page.textContent("#mon-memory_usage");
    assert.match(memory, /^\d+(\.\d)? %$/);

    // The advanced stream: connection, 20 data events and close, in order, with ids and retry.
    await page.click("#demo-run");
    await page.waitForFunction(() => document.querySelectorAll("#demo-log li").length >= 23, null, { timeout: DEADLINE_MS });
    const items = await page.$$eval("#demo-log li", (lis) => lis.map((li) => ({ event: li.dataset.event, id: li.dataset.id, text: li.textContent })));
    assert.deepEqual(
      items.map((i) => i.event),
      ["connection", ...Array(20).fill("data"), "close", "pushwire.end"],
    );
    assert.deepEqual(
      items.slice(0, 22).map((i) => i.id),
      ["conn-1", ...Array.from({ length: 20 }, (_, i) => `data-${i + 1}`), "close-1"],
    );
    for (const [i, item] of items.slice(1, 21).entries()) {
      assert.match(item.text, /retry 3000 ms/);
      assert.match(item.text, new RegExp(`value ${(i + 1) * 10},`));
    }

    assert.deepEqual(errors, [], "no console errors");
  });

  test("an event published over HTTP appears on the page", { timeout: 60_000 }, async () => {
    const { page, errors } = await openPage(browser.context, `${server.url}/`);
    await waitForState(page, "open");
    const marker = `from the test ${Date.now()}`;
    const id = await publish(server.url, "demo", { event: "message", data: { text: marker } });
    const item = page.locator("#recv-log li", { hasText: marker });
    await item.waitFor({ timeout: DEADLINE_MS });
    assert.match(await item.textContent(), new RegExp(`^${id}  message  `));
    assert.equal(await page.textContent("#conn-last-id"), id);
    assert.deepEqual(errors, []);
  });

  test("the publish box publishes and the subscription shows it", { timeout: 60_000 }, async () => {
    const { page } = await openPage(browser.context, `${server.url}/`);
    await waitForState(page, "open");
    await page.fill("#pub-event", "chat");
    await page.fill("#pub-data", '{"text": "typed in the box"}');
    await page.click("#pub-form button[type=submit]");
    await page.locator("#pub-result", { hasText: "Published as" }).waitFor({ timeout: DEADLINE_MS });
    await page.locator("#recv-log li", { hasText: "typed in the box" }).waitFor({ timeout: DEADLINE_MS });
    // Bad JSON is refused on the page, with a message.
    await page.fill("#pub-data", "{not json");
    await page.click("#pub-form button[type=submit]");
    await page.locator("#pub-result", { hasText: "not valid JSON" }).waitFor({ timeout: DEADLINE_MS });
  });

  test("SSE and polling both deliver the compared topic, measured", { timeout: 60_000 }, async () => {
    const { page } = await openPage(browser.context, `${server.url}/?pollMs=500`);
    await page.waitForFunction(
      () => Number(document.getElementById("cmp-sse-count").textContent) >= 2 && Number(document.getElementById("cmp-poll-count").textContent) >= 2,
      null,
      { timeout: DEADLINE_MS },
    );
    assert.match(await page.textContent("#cmp-sse-delay"), /ms$/);
    assert.match(await page.textContent("#cmp-poll-bytes"), /(B|KiB)$/);
  });

  test("a performance run shows progress, the server's summary and client figures", { timeout: 60_000 }, async () => {
    const { page, errors } = await openPage(browser.context, `${server.url}/`);
    await page.fill("#perf-count", "3000");
    await page.click("#perf-run");
    await page.waitForFunction(() => /^[\d,]+$/.test(document.getElementById("perf-server-rate").textContent), null, { timeout: DEADLINE_MS });
    assert.equal(await page.getAttribute("#perf-progress", "max"), "3000");
    assert.equal(await page.evaluate(() => document.getElementById("perf-progress").value), 3000);
    assert.match(await page.textContent("#perf-server-avg"), /µs$/);
    assert.match(await page.textContent("#perf-client-rate"), /^[\d,]+$/);
    assert.match(await page.textContent("#perf-latency"), /ms$/);
    assert.deepEqual(errors, []);
  });

  test("screenshots of the dashboard", { timeout: 90_000 }, async () => {
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ]) {
      const shot = await openBrowser({ width, height });
      try {
        const { page } = await openPage(shot.context, `${server.url}/?demoInterval=20`);
        await waitForState(page, "open");
        await page.click("#demo-run");
        await page.waitForFunction(() => document.querySelectorAll("#demo-log li").length >= 23, null, { timeout: DEADLINE_MS });
        await page.waitForFunction(() => [...document.querySelectorAll("#charts canvas")].every((c) => Number(c.dataset.points) >= 5), null, { timeout: DEADLINE_MS });
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: screenshotPath(`dashboard-${width}x${height}.png`) });
      } finally {
        await shot.close();
      }
    }
  });
});

describe("when the server goes away", () => {
  test("the page reconnects to a restarted server and shows the reset", { timeout: 120_000 }, async () => {
    const port = await freePort();
    let server = await startServer(port);
    const browser = await openBrowser();
    try {
      const { page } = await openPage(browser.context, `${server.url}/?reconnectInterval=300&maxReconnectAttempts=50`);
      await waitForState(page, "open");
      const before = await publish(server.url, "demo", { data: { text: "before the crash" } });
      await page.locator("#recv-log li", { hasText: "before the crash" }).waitFor({ timeout: DEADLINE_MS });
      assert.equal(await page.textContent("#conn-last-id"), before);

      await server.kill("SIGKILL");
      const reconnecting = await waitForState(page, /^reconnecting \d+ of 50$/);
      assert.match(reconnecting, /^reconnecting [1-9]\d* of 50$/);
      assert.equal(await page.getAttribute("#state", "data-state"), "reconnecting");

      server = await startServer(port);
      await waitForState(page, "open");
      // The new server cannot replay the old one's ids: the page says so.
      const notice = page.locator("#reset-notice");
      await notice.waitFor({ state: "visible", timeout: DEADLINE_MS });
      assert.match(await notice.textContent(), /server restarted/);
      const afterRestart = await publish(server.url, "demo", { data: { text: "after the restart" } });
      await page.locator("#recv-log li", { hasText: "after the restart" }).waitFor({ timeout: DEADLINE_MS });
      assert.equal(await page.textContent("#conn-last-id"), afterRestart);
    } finally {
      await browser.close();
      await server.kill();
    }
  });

  test("against a server that never comes back, the page gives up after the configured attempts", { timeout: 120_000 }, async () => {
    const server = await startServer(await freePort());
    const browser = await openBrowser();
    try {
      const { page } = await openPage(browser.context, `${server.url}/?reconnectInterval=100&maxReconnectAttempts=3`);
      await waitForState(page, "open");
      await server.kill("SIGKILL");
      await waitForState(page, "gave up");
      assert.equal(await page.getAttribute("#state", "data-state"), "failed");
      assert.equal(await page.textContent("#conn-reconnects"), "3");
    } finally {
      await browser.close();
    }
  });
});

describe("private topics (as cargo xtask demo starts the server)", () => {
  test("the private panel's stream outlives its tokens without a gap, on both transports", { timeout: 120_000 }, async () => {
    const server = await startServer(await freePort(), [
      "--jwt-secret", `e2e-${process.pid}`,
      "--public-topics", "demo,compare,monitoring,public.*",
      // Tokens live one to two seconds (exp is in whole seconds).
      "--demo-token-ttl-ms", "2000",
    ]);
    const browser = await openBrowser();
    try {
      const { page, errors } = await openPage(browser.context, `${server.url}/`);
      // The public panels still work, and publishing carries the demo user's token.
      await waitForState(page, "open");
      const figures = () => page.evaluate(() => {
        const p = window.pushwireDemo.private;
        return { count: p.count, last: p.last, tokens: p.tokens, gaps: p.gaps, dups: p.dups, state: document.getElementById("priv-state").textContent };
      });
      // A new token means a reconnect under way: wait until it is open again.
      const tokensAtLeast = async (n) => {
        await page.waitForFunction((n) => window.pushwireDemo.private.tokens >= n, n, { timeout: 30_000 });
        await page.waitForFunction(() => document.getElementById("priv-state").textContent === "open", null, { timeout: DEADLINE_MS });
      };
      // EventSource with tickets: two expiries, then the figures.
      await tokensAtLeast(3);
      let f = await figures();
      assert.equal(f.gaps, 0, "no gap");
      assert.equal(f.dups, 0, "no duplicate");
      assert.equal(f.count, f.last + 1, "every note from the first, once");
      assert.ok(f.count >= 2, `notes arrived (${f.count})`);
      assert.equal(await page.textContent("#priv-gaps"), "0 / 0");

      // fetch with the header: switching resumes by id, and two more expiries.
      await page.check("input[name=priv-transport][value=fetch]");
      await tokensAtLeast(f.tokens + 3);
      f = await figures();
      assert.deepEqual([f.gaps, f.dups, f.count], [0, 0, f.last + 1]);
      assert.equal(f.state, "open");

      // Without a token the topic is refused, and the page says so.
      await page.click("#priv-anonymous");
      await page.locator("#priv-status", { hasText: "without a token: refused (401)" }).waitFor({ timeout: DEADLINE_MS });
      // The only console errors are the browser's reports of that refusal.
      assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), []);
    } finally {
      await browser.close();
      await server.kill();
    }
  });
});
