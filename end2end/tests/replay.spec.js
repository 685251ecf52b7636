const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, serverNow, signIn } = require('./helpers');

// A carrier endpoint on 127.0.0.1: refuses the first delivery with 503, then
// accepts; remembers what it was sent.
const seen = [];
let target;
let targetUrl;

test.beforeAll(async () => {
  target = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      seen.push({ key: req.headers['idempotency-key'], auth: req.headers.authorization, body });
      const first = seen.filter((s) => s.key === req.headers['idempotency-key']).length === 1;
      res.writeHead(first ? 503 : 200, { 'content-type': 'application/json' });
      res.end(first ? '{"error":"carrier busy"}' : '{"booked":true}');
    });
  });
  await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${target.address().port}/shipments`;
});

test.afterAll(async () => {
  await new Promise((resolve) => target.close(resolve));
});

const rows = (page) => page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr');

test.describe.serial('replays', () => {
  test('an admin sets up a retry policy and a connector whose secret is never shown again', async ({ page }) => {
    await signIn(page, DEMO.admin);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Retry policies' }).click();
    await hydrated(page);
    const policy = page.getByRole('form', { name: 'Retry policy' });
    await policy.getByLabel('Name', { exact: true }).fill('Carrier quick');
    await policy.getByLabel('Attempts in all').fill('3');
    await policy.getByLabel('First wait (seconds)').fill('1');
    await policy.getByLabel('Multiplier').fill('1');
    await policy.getByLabel('Longest wait (seconds)').fill('0');
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await expect(policy.getByRole('alert')).toContainText('must be between the initial delay');
    await policy.getByLabel('Longest wait (seconds)').fill('2');
    await policy.getByLabel('Spread the waits at random (jitter)').uncheck();
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await expect(policy.getByRole('status')).toHaveText('Policy saved.');
    await expect(page.getByRole('table', { name: 'Retry policies' })).toContainText('Carrier quick');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connectors' }).click();
    await hydrated(page);
    const form = page.getByRole('form', { name: 'Connector' });
    await form.getByLabel('Name', { exact: true }).fill('Carrier shipments');
    await form.getByLabel('System').selectOption('carrier');
    await form.getByLabel('Operation (e.g. tms.create_shipment, or * for all)').fill('tms.create_shipment');
    await form.getByLabel('URL (http or https)').fill('ftp://carrier.example/shipments');
    await form.getByLabel('Secret (leave empty to keep the stored one)').fill('Bearer e2e-carrier-secret');
    await form.getByLabel('Timeout (ms)').fill('2000');
    await form.getByLabel('Retry policy').selectOption('Carrier quick');
    // The integration hub files the carrier failures: its word is taken.
    await form.getByLabel('Sources whose failures it replays on their word').fill('middleware');
    await form.getByRole('button', { name: 'Save connector' }).click();
    await expect(form.getByRole('alert')).toContainText('must be an http:// or https:// URL');
    await form.getByLabel('URL (http or https)').fill(targetUrl);
    await form.getByRole('button', { name: 'Save connector' }).click();
    await expect(form.getByRole('status')).toHaveText('Connector saved.');
    const table = page.getByRole('table', { name: 'Connectors' });
    await expect(table).toContainText('Carrier shipments');
    const ours = table.locator('tbody tr').filter({ hasText: 'Carrier shipments' });
    await expect(ours).toContainText('set');
    await expect(ours).toContainText('middleware');
    await expect(ours.locator('td.breaker')).toHaveText('closed');
    await expect(form.getByLabel('Secret (leave empty to keep the stored one)')).toHaveValue('');
    await page.reload();
    await hydrated(page);
    expect(await page.content()).not.toContain('e2e-carrier-secret');
  });

  test('a supervisor replays from the detail page and watches the attempts appear', async ({ page }) => {
    await signIn(page, DEMO.supervisor);
    await page.goto('/?type=exception.integration&status=new&queue=transportation');
    await hydrated(page);
    await rows(page).first().locator('td.id a').click();
    await hydrated(page);
    const panel = page.getByRole('region', { name: 'Replay' });
    await expect(panel).toContainText('Replays go to Carrier shipments');
    await expect(panel.locator('[data-breaker]')).toHaveAttribute('data-breaker', 'closed');
    await panel.getByRole('button', { name: 'Replay', exact: true }).click();
    await expect(panel.getByRole('status')).toContainText('queued');
    const attempts = panel.getByRole('table', { name: 'Attempts' }).locator('tbody tr');
    // The carrier refuses once (503), then books it.
    await expect(attempts).toHaveCount(2, { timeout: 20_000 });
    await expect(attempts.nth(1)).toContainText('503');
    await attempts.nth(1).getByRole('button', { name: 'Show the answer' }).click();
    await expect(attempts.nth(1)).toContainText('carrier busy');
    await expect(attempts.nth(0)).toContainText('delivered');
    await expect(panel.locator('[data-replay]')).toHaveAttribute('data-replay', 'replayed');
    await page.reload();
    await hydrated(page);
    await expect(page.locator('.detail-head .status')).toHaveText('Resolved');
    await expect(page.getByRole('region', { name: 'Timeline' })).toContainText('system:replay resolved');
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
    expect(seen.every((s) => s.auth === 'Bearer e2e-carrier-secret')).toBe(true);
  });

  test('a supervisor corrects the message, sees the diff, and replays the correction', async ({ page }) => {
    await signIn(page, DEMO.supervisor);
    await page.goto('/?type=exception.integration&status=new&queue=transportation');
    await hydrated(page);
    await rows(page).first().locator('td.id a').click();
    await hydrated(page);
    const panel = page.getByRole('region', { name: 'Replay' });
    await panel.getByRole('button', { name: 'Edit and replay' }).click();
    const editor = panel.getByLabel('Message (JSON)');
    const original = JSON.parse(await editor.inputValue());
    await editor.fill('{"shipment": ');
    await expect(panel.getByRole('alert').first()).toContainText('not valid JSON');
    await expect(panel.getByRole('button', { name: 'Replay corrected message' })).toBeDisabled();
    await editor.fill(JSON.stringify({ ...original, pallets: 9 }, null, 2));
    await expect(panel.getByRole('list', { name: 'Changes' })).toContainText('/pallets');
    const before = seen.length;
    await panel.getByRole('button', { name: 'Replay corrected message' }).click();
    await expect(panel.locator('[data-replay]')).toHaveAttribute('data-replay', 'replayed', { timeout: 20_000 });
    await expect(panel.getByText(/The message was corrected \(1 change/)).toBeVisible();
    const sent = seen.slice(before).map((s) => JSON.parse(s.body));
    expect(sent.every((b) => b.pallets === 9)).toBe(true);
    expect(seen.slice(before).every((s) => s.key.endsWith('-v2'))).toBe(true);

    // What the target answered shows only when asked for, and the reading is recorded.
    const attempts = panel.getByRole('table', { name: 'Attempts' });
    await attempts.getByRole('button', { name: 'Show the answer' }).first().click();
    await expect(attempts.locator('code.response-head').first()).toHaveText(/"booked":true|"error":"carrier busy"/);
    const id = new URL(page.url()).pathname.split('/').pop();

    // An auditor finds what the supervisor did to this shipment this week,
    // sees the correction as a diff, and exports the set; the export checks.
    const shipment = original.shipment;
    expect(shipment).toMatch(/^SHP-/);
    await page.context().clearCookies();
    await signIn(page, DEMO.auditor);
    const today = new Date(serverNow()).toISOString().slice(0, 10);
    const weekAgo = new Date(serverNow() - 7 * 86_400_000).toISOString().slice(0, 10);
    await page.goto(`/audit?actor=user:sam&key=${shipment}&from=${weekAgo}&to=${today}`);
    await hydrated(page);
    const trail = page.getByRole('table', { name: 'Audit trail' });
    const ofAction = (name) => trail.locator('tbody tr').filter({ has: page.locator('td:nth-child(4)', { hasText: new RegExp(`^${name}$`) }) });
    const corrected = ofAction('message corrected');
    await expect(corrected).toHaveCount(1);
    await expect(corrected.locator('ul.changes')).toContainText('pallets');
    await expect(ofAction('replay answer read')).toHaveCount(1);
    await corrected.getByRole('link', { name: 'history' }).click();
    await expect(page).toHaveURL(new RegExp(`/audit\\?exception=${id}&order=oldest$`));
    await expect(trail.locator('tbody tr').first().locator('td:nth-child(4)')).toHaveText('filed');
    await page.goBack();
    await hydrated(page);
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'JSON Lines' }).click();
    const file = path.join(os.tmpdir(), `crossdock-audit-${Date.now()}.jsonl`);
    await (await download).saveAs(file);
    const check = spawnSync(path.join(__dirname, '..', '..', 'target', 'bin', 'crossdock'), ['audit', 'verify', '--file', file]);
    expect(check.status, String(check.stdout) + String(check.stderr)).toBe(0);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBe(await trail.locator("tbody tr").count());
    fs.writeFileSync(file, lines.map((l, i) => (i === 1 ? l.replace('sam', 'pat') : l)).join('\n') + '\n');
    const tampered = spawnSync(path.join(__dirname, '..', '..', 'target', 'bin', 'crossdock'), ['audit', 'verify', '--file', file]);
    expect(tampered.status).not.toBe(0);
  });
});
