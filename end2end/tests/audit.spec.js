const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

// The auditor console: the chain's state, filters in the address, an
// exception's whole history, exports, and an admin's check of the chain.

test('an auditor filters the trail, opens an exception’s history and exports what the filter holds', async ({ page }) => {
  await signIn(page, DEMO.auditor);
  await page.goto('/audit?actor=system&order=oldest');
  await hydrated(page);
  await expect(page.getByRole('status').filter({ hasText: /^Chain verified up to record \d+/ })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Check the chain now' })).toHaveCount(0);
  const trail = page.getByRole('table', { name: 'Audit trail' });
  await expect(trail.locator('tbody tr').first()).toBeVisible();
  // Every row was written by a part of the system.
  const who = await trail.locator('tbody tr td:nth-child(3)').allInnerTexts();
  expect(who.length).toBeGreaterThan(0);
  for (const w of who) expect(w).toMatch(/^system:/);
  // The form shows the filter of the address.
  await expect(page.getByLabel('Who', { exact: true })).toHaveValue('system');
  await expect(page.getByLabel('Order', { exact: true })).toHaveValue('oldest');

  // One click: an exception's whole history, oldest first.
  await trail.getByRole('link', { name: 'history' }).first().click();
  await expect(page).toHaveURL(/\/audit\?exception=\d+&order=oldest$/);
  await expect(trail.locator('tbody tr').first().locator('td:nth-child(4)')).toHaveText('filed');
  const id = new URL(page.url()).searchParams.get('exception');
  await expect(page.getByLabel('Exception', { exact: true })).toHaveValue(id);

  // The export follows the filter and says how many rows it holds.
  const csv = page.getByRole('link', { name: 'CSV' });
  await expect(csv).toHaveAttribute('href', new RegExp(`format=csv&exception=${id}&order=oldest`));
  const answer = await page.request.get(await csv.getAttribute('href'));
  expect(answer.status()).toBe(200);
  const text = await answer.text();
  expect(text.split('\n')[0]).toBe('seq,at,actor,action,entity,entity_id,before,after,reason,prev_hash,hash');
  expect(text.trim().split('\n').length - 1).toBe(Number(answer.headers()['x-audit-rows']));

  // The export is in the trail.
  await page.goto('/audit?action=audit.exported');
  await hydrated(page);
  await expect(trail.locator('tbody tr').first()).toContainText('user:alex');

  // The exception's page links to the same history.
  await page.goto(`/exceptions/${id}`);
  await hydrated(page);
  await page.getByRole('link', { name: 'Its whole history in the audit trail' }).click();
  await expect(page).toHaveURL(new RegExp(`/audit\\?exception=${id}&order=oldest$`));
  await expect(trail.locator('tbody tr').first()).toBeVisible();
});

test('a filter that does not read is refused in words, and a form submit filters', async ({ page }) => {
  await signIn(page, DEMO.auditor);
  await page.goto('/audit?from=yesterday');
  await hydrated(page);
  await expect(page.getByText('from is not a date (YYYY-MM-DD)')).toBeVisible();
  await page.goto('/audit');
  await hydrated(page);
  await page.getByLabel('Action', { exact: true }).selectOption('login.succeeded');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/action=login\.succeeded/);
  const trail = page.getByRole('table', { name: 'Audit trail' });
  await expect(trail.locator('tbody tr').first()).toBeVisible();
  for (const a of await trail.locator('tbody tr td:nth-child(4)').allInnerTexts()) expect(a).toBe('login succeeded');
});

test('an admin checks the chain now', async ({ page }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/audit');
  await hydrated(page);
  await page.getByRole('button', { name: 'Check the chain now' }).click();
  await expect(page.getByRole('status').filter({ hasText: '(asked for by morgan)' })).toBeVisible();
});

test('a transaction’s page leads to the records of its events as received', async ({ page }) => {
  await signIn(page, DEMO.auditor);
  await page.goto('/?q=PO-10045');
  await hydrated(page);
  await page.getByRole('table', { name: 'Exceptions' }).getByRole('link', { name: /EX-/ }).first().click();
  await page.getByRole('navigation', { name: 'Transaction' }).getByRole('link', { name: 'Open its lineage' }).click();
  await expect(page.getByRole('heading', { name: 'Transaction po:PO-10045' })).toBeVisible();
  await hydrated(page);
  await page.getByRole('link', { name: 'Its events as received, in the audit trail' }).click();
  await expect(page).toHaveURL(/\/audit\?entity=transaction&entity_id=\d+&order=oldest$/);
  const trail = page.getByRole('table', { name: 'Audit trail' });
  await expect(trail.locator('tbody tr').first().locator('td:nth-child(4)')).toHaveText('event recorded');
  await expect(trail.locator('tbody tr').first()).toContainText('recorded in transaction');
  // The exception filed on it leaves its routing decision.
  await page.goto('/?q=PO-10045');
  await hydrated(page);
  await page.getByRole('table', { name: 'Exceptions' }).getByRole('link', { name: /EX-/ }).first().click();
  await page.getByRole('link', { name: 'Its whole history in the audit trail' }).click();
  const filed = trail.locator('tbody tr').first();
  await expect(filed.locator('td:nth-child(4)')).toHaveText('filed');
  await expect(filed).toContainText('routing.rule');
  await expect(filed).toContainText(/routed to receiving at \w+ by rule \d+ “Partial receipts”/);
});
