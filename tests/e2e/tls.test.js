// End-to-end over HTTPS: the demo page and 30 EventSources on one page, in
// Debian's Chromium, against a server with a certificate generated at start.

import assert from "node:assert/strict";
import { test } from "node:test";
import { freePort, openBrowser, openPage, startServer, waitForState } from "./support.js";

test("over TLS the page runs on HTTP/2 and 30 EventSources all get their events", { timeout: 90_000 }, async () => {
  const server = await startServer(await freePort(), [], { tls: true });
  const browser = await openBrowser(undefined, { trustAnyCertificate: true });
  try {
    const { page, errors } = await openPage(browser.context, `${server.url}/`);
    await waitForState(page, "open");
    assert.equal(await page.textContent("#protocol"), "h2");

    // Over HTTP/1.1 the seventh stream would wait for one of the first six
    // connections (the page itself already holds three streams).
    const got = await page.evaluate(async () => {
      const N = 30;
      const sources = [];
      const opened = [];
      const received = [];
      for (let i = 0; i < N; i++) {
        const source = new EventSource(`/sse/subscribe?topic=h2-${i}`);
        sources.push(source);
        opened.push(new Promise((ok) => source.addEventListener("open", ok, { once: true })));
        received.push(new Promise((ok) => source.addEventListener("message", (e) => ok(JSON.parse(e.data)), { once: true })));
      }
      await Promise.all(opened);
      for (let i = 0; i < N; i++) {
        const res = await fetch(`/api/topics/h2-${i}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ data: { stream: i } }),
        });
        if (res.status !== 202) throw new Error(`publish ${i}: ${res.status}`);
      }
      const data = await Promise.all(received);
      sources.forEach((s) => s.close());
      return data.map((d) => d.stream);
    });
    assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.kill();
  }
});
