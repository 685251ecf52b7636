const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

// Every kind of page, loaded directly by URL (a bookmark, a refresh, a link
// from a chat), must hydrate cleanly: no uncaught error, no hydration
// message, nothing the framework warns about.
function watch(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if ((m.type() === 'error' || m.type() === 'warning') && !text.startsWith('Failed to load resource')) {
      problems.push(`${m.type()}: ${text.slice(0, 300)}`);
    }
  });
  return problems;
}

async function firstOf(page, query) {
  await page.goto(`/?${query}`);
  await hydrated(page);
  const href = await page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr td.id a').first().getAttribute('href');
  return href;
}

test('every page hydrates when loaded directly by URL', async ({ page }) => {
  // Some fifty pages, each given time to settle: more than the default 30 s.
  test.setTimeout(120_000);
  await signIn(page, DEMO.admin);
  const types = [
    'exception.integration', 'exception.partial_receipt', 'exception.supplier_date_change',
    'exception.inventory_mismatch', 'exception.allocation_failed', 'exception.invoice_trigger_failed',
    'exception.milestone_overdue',
  ];
  const details = [];
  for (const type of types) {
    details.push(await firstOf(page, `type=${type}&status=any`));
  }
  const pages = [
    '/', '/?status=any&severity=high', '/?q=SHP-4480&status=any', '/?q=ASN-55120', ...details,
    '/admin/users', '/admin/sources', '/admin/queues', '/admin/sites', '/admin/policies', '/admin/routing',
    '/admin/connectors', '/admin/retry-policies', '/admin/history', '/admin/expectations', '/admin/escalations', '/audit',
    '/admin/channels', '/settings/notifications', '/kpis', '/kpis?period=week', '/kpis?site=DC-DAL&supplier=SUP-017',
    '/transactions', '/transactions?stuck=24&flow=order_to_cash',
    '/board', '/board?by=site', '/board?by=assignee', '/board?display=wall',
  ];
  // Every transaction of the demo, by URL.
  const transactions = await page.evaluate(async () => {
    const r = await fetch('/console/transactions', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: {} }),
    });
    return (await r.json()).filter((t) => t.last_milestone_at).map((t) => `/transactions/${t.id}`);
  });
  expect(transactions.length).toBeGreaterThan(5);
  pages.push(...transactions);
  for (const path of pages) {
    const problems = watch(page);
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await page.waitForTimeout(400);
    expect(problems, path).toEqual([]);
    page.removeAllListeners('console');
    page.removeAllListeners('pageerror');
  }
});

test('an integration failure opened by URL works: one replay panel, and an action updates the page', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  const href = await firstOf(page, 'type=exception.integration&assignee=none');
  const problems = watch(page);
  await page.goto(href);
  await hydrated(page);
  await expect(page.getByRole('region', { name: 'Replay' })).toHaveCount(1);
  await expect(page.getByText('Replays go to')).toHaveCount(1);
  const act = page.getByRole('form', { name: 'Act on this exception' });
  await act.getByLabel('Action').selectOption('claim');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('status')).toHaveText('Done: claim.');
  await expect(page.locator('.detail-head')).toContainText('assigned to sam');
  await expect(page.getByRole('region', { name: 'Timeline' })).toContainText('user:sam claimed');
  // The page's timers (a replay is followed every 2 s) warn of nothing either.
  await page.waitForTimeout(2500);
  expect(problems).toEqual([]);
});

test('the users page always offers the queues, and a staff member without queues is confirmed first', async ({ page }) => {
  await signIn(page, DEMO.admin);
  for (let i = 0; i < 6; i++) {
    await page.goto('/admin/users');
    await hydrated(page);
    const queues = page.getByRole('form', { name: 'New user' }).getByRole('group', { name: 'Queues (staff)' });
    // The demo's six queues at least (other specs may add some).
    await expect(queues.getByRole('checkbox').nth(5)).toBeVisible();
  }
  const form = page.getByRole('form', { name: 'New user' });
  await form.getByLabel('User name').fill('lee.night');
  await form.getByLabel('Name', { exact: true }).fill('Lee Night');
  await form.getByLabel('Password').fill('pallet-lantern-orchard-61');
  await form.getByRole('button', { name: 'Create user' }).click();
  const confirm = form.getByRole('group', { name: 'Confirm' });
  await expect(confirm).toContainText('sees no exceptions');
  await confirm.getByRole('button', { name: 'Choose queues' }).click();
  await form.getByRole('group', { name: 'Queues (staff)' }).getByLabel('receiving').check();
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(form.getByRole('status')).toHaveText('User created.');
  await expect(page.getByRole('table', { name: 'Users' })).toContainText('lee.night');
});

test('a visitor asked to sign in comes back to the page they asked for', async ({ page }) => {
  await page.goto('/audit?x=1');
  await expect(page).toHaveURL(/\/login\?next=%2Faudit%3Fx%3D1$/);
  await hydrated(page);
  await page.getByLabel('User name').fill(DEMO.auditor.username);
  await page.getByLabel('Password').fill(DEMO.auditor.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/audit\?x=1$/);
  await expect(page.getByRole('heading', { name: 'Audit trail' })).toBeVisible();
});

test('the queue needs only the main bundle; other pages bring their own part, by URL or by link', async ({ page }) => {
  const parts = [];
  page.on('requestfinished', (r) => {
    const name = new URL(r.url()).pathname.split('/').pop();
    const route = /^split_+(.+)_route_view_\d+\.wasm$/.exec(name);
    if (route) parts.push(route[1]);
  });
  await signIn(page, DEMO.staff);
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByRole('table', { name: 'Exceptions' })).toBeVisible();
  expect(parts).toEqual([]);

  await page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr td.id a').first().click();
  await expect(page.getByRole('form', { name: 'Act on this exception' })).toBeVisible();
  expect(parts).toEqual(['exception']);

  const problems = watch(page);
  await page.goto('/transactions');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  expect(parts).toEqual(['exception', 'transactions']);
  expect(problems).toEqual([]);
});
