const { test, expect } = require('@playwright/test');
const { DEMO, signIn } = require('./helpers');

test.beforeEach(async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await expect(page.getByRole('heading', { name: 'Exceptions' })).toBeVisible();
});

test('the home page lists the exceptions rendered by the server', async ({ page }) => {
  const rows = page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThan(1);
  await expect(page.getByRole('cell', { name: 'DC-RNO' }).first()).toBeVisible();
});

test('typing in the filter narrows the list without reloading the page', async ({ page }) => {
  const rows = page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  const all = await rows.count();
  await page.evaluate(() => { window.sameDocument = true; });

  await page.getByRole('searchbox', { name: 'Search' }).fill('PO-10045');
  await expect(rows).toHaveCount(1);
  await expect(page.getByRole('status')).toHaveText('1 exception');
  await expect(rows.first()).toContainText('short on PO-10045');

  await page.getByRole('searchbox', { name: 'Search' }).fill('rating api');
  await expect(rows.first()).toContainText('rating API');
  const matching = await rows.count();
  expect(matching).toBeGreaterThan(1);
  expect(matching).toBeLessThan(all);
  for (const row of await rows.all()) {
    await expect(row).toContainText('Integration failure');
  }

  await page.getByRole('searchbox', { name: 'Search' }).fill('');
  await expect(rows).toHaveCount(all);
  expect(await page.evaluate(() => window.sameDocument)).toBe(true);
});

test('a filter that matches nothing says so', async ({ page }) => {
  await page.getByRole('searchbox', { name: 'Search' }).fill('no such thing anywhere');
  await expect(page.getByRole('status')).toHaveText('No exceptions match.');
  await expect(page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr')).toHaveCount(0);
});
