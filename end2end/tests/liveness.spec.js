const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

// A page left open all day refreshes itself every 10 seconds; it must not
// gather listeners or timers as it does. The browser's clock is driven by
// the test, so twenty refreshes take a moment; the listener count comes from
// the DevTools protocol, the timers from counting what the page sets and
// clears.

const REFRESHES = 20;

async function watchTimers(page) {
  await page.clock.install();
  await page.addInitScript(() => {
    const live = new Set();
    const set = window.setInterval;
    const clear = window.clearInterval;
    window.setInterval = function (...args) {
      const id = set.apply(this, args);
      live.add(id);
      return id;
    };
    window.clearInterval = function (id) {
      live.delete(id);
      return clear.call(this, id);
    };
    window.liveIntervals = () => live.size;
  });
}

async function counts(page, cdp) {
  // Listeners of nodes a re-render removed count until they are collected.
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const listeners = metrics.find((m) => m.name === 'JSEventListeners').value;
  const intervals = await page.evaluate(() => window.liveIntervals());
  return { listeners, intervals };
}

async function refresh(page, times) {
  for (let i = 0; i < times; i += 1) {
    await page.clock.runFor(10_000);
    await page.waitForLoadState('networkidle');
  }
}

async function staysFlat(page, url) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(url);
  await hydrated(page);
  await refresh(page, 2);
  const before = await counts(page, cdp);
  await refresh(page, REFRESHES);
  const after = await counts(page, cdp);
  // Rows come and go as the data changes, and their listeners with them; a
  // leak of one listener per refresh would add twenty.
  expect(after.listeners - before.listeners, `${url}: listeners ${JSON.stringify({ before, after })}`)
    .toBeLessThan(REFRESHES / 2);
  expect(after.intervals, `${url}: timers`).toBe(before.intervals);
  expect(before.intervals).toBeGreaterThan(0);
}

test('the queue and an exception page stay flat across twenty refreshes', async ({ page }) => {
  test.setTimeout(120_000);
  await watchTimers(page);
  await signIn(page, DEMO.supervisor);
  // A view whose rows do not change while other specs move the server's
  // clock (the sweeps file new work then): only a leak can move the count.
  await staysFlat(page, '/?status=dismissed');
  const href = await page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr td.id a').first().getAttribute('href');
  await staysFlat(page, href);
});

test('the SLA board stays flat across twenty refreshes', async ({ page }) => {
  test.setTimeout(120_000);
  await watchTimers(page);
  await signIn(page, DEMO.supervisor);
  await staysFlat(page, '/board');
  await staysFlat(page, '/board?by=assignee&display=wall');
});
