// Time to interactive of a signed-in clerk's first page, in Chromium,
// measured through the Performance API. Each load is a first visit: a new
// browser context with nothing cached, signed in through the session cookie.
//
//   node bench/interactive.js <base URL> [loads] [path]
//
// Prints, for the page, the median and the worst of: the HTML received
// (navigation responseEnd), the main bundle fetched (the last .wasm or .js
// resource's responseEnd, lazily loaded parts aside) and the page interactive (the moment the console
// marks <body data-hydrated>, seen by a MutationObserver installed before
// the page's own scripts), plus the bytes of WebAssembly transferred.
const { chromium } = require('playwright-core');

const base = process.argv[2] || 'http://127.0.0.1:3200';
const loads = Number(process.argv[3] || 15);
const path = process.argv[4] || '/';
const clerk = { username: 'pat', password: 'receiving-dock-pallet-7' };

function stat(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.floor((sorted.length - 1) / 2)], max: sorted[sorted.length - 1] };
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const login = await browser.newContext();
  const answer = await login.request.post(`${base}/console/login`, {
    form: { username: clerk.username, password: clerk.password },
    headers: { origin: base },
  });
  if (!answer.ok()) throw new Error(`sign-in failed: ${answer.status()}`);
  const cookies = await login.cookies();
  await login.close();

  const runs = [];
  for (let i = 0; i < loads; i += 1) {
    const context = await browser.newContext();
    await context.addCookies(cookies);
    await context.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.body && document.body.dataset.hydrated === 'true') {
          window.__interactive = performance.now();
          observer.disconnect();
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
    });
    const page = await context.newPage();
    await page.goto(`${base}${path}`);
    await page.waitForFunction(() => window.__interactive !== undefined, null, { timeout: 30_000 });
    runs.push(await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const code = performance.getEntriesByType('resource').filter((r) => /\.(wasm|js)$/.test(new URL(r.name).pathname));
      // Lazily loaded parts (split_*, chunk_*) are not the page's bundle: the
      // queue fetches the bulk panel's after it is interactive.
      const lazy = code.filter((r) => /\/(split_|chunk_)[^/]*$/.test(new URL(r.name).pathname));
      const main = code.filter((r) => !lazy.includes(r));
      return {
        html: nav.responseEnd,
        bundle: Math.max(...main.map((r) => r.responseEnd)),
        interactive: window.__interactive,
        wasm: main.filter((r) => r.name.endsWith('.wasm')).reduce((n, r) => n + r.encodedBodySize, 0),
        lazy: lazy.length,
      };
    }));
    await context.close();
  }
  await browser.close();
  const ms = (v) => `${v.toFixed(0)} ms`;
  console.log(`${path}: ${loads} first visits of a signed-in clerk`);
  for (const key of ['html', 'bundle', 'interactive']) {
    const s = stat(runs.map((r) => r[key]));
    console.log(`  ${key.padEnd(12)} p50 ${ms(s.p50).padStart(8)}   max ${ms(s.max).padStart(8)}`);
  }
  console.log(`  main wasm transferred ${runs[0].wasm} bytes; lazy parts fetched: ${runs[0].lazy}`);
})().catch((e) => { console.error(e); process.exit(1); });
