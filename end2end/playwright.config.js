// End-to-end tests of the console in the distribution's headless Chromium.
// Playwright starts the server itself (scripts/e2e-server.sh) and waits until
// it is ready before the first spec.
const path = require('node:path');
const { defineConfig } = require('@playwright/test');

const port = process.env.CROSSDOCK_E2E_PORT || '3100';
// The demo's business calendars keep weekends (its receiving site works from
// Sunday night to Friday evening), so the server's test clock starts on the
// coming Wednesday (UTC), at this time of day, whatever day the specs run.
// Set here once: the server and the specs (helpers.serverNow) read it.
process.env.CROSSDOCK_TEST_CLOCK_DAYS ??= String((3 - new Date().getUTCDay() + 7) % 7);

module.exports = defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: 'only-on-failure',
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: path.join(__dirname, '..', 'scripts', 'e2e-server.sh'),
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
