const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

// Word search: part of an item number finds the exceptions whose business
// context holds it, and a word of a note finds what it was written on,
// loaded straight by URL as a bookmark would.

const rows = (page) => page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr');

test('part of an item number finds the short receipt of that item', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await page.goto('/?q=SKU-204&status=any');
  await hydrated(page);
  await expect(page.getByRole('searchbox', { name: 'Search' })).toHaveValue('SKU-204');
  await expect(rows(page).filter({ hasText: 'short on PO-10045' })).toHaveCount(1);
  await page.getByRole('searchbox', { name: 'Search' }).fill('SKU-205');
  await expect(page.getByRole('status')).toHaveText('No exceptions match.');
});

test('a word of a comment finds the exception it was written on', async ({ page }) => {
  await signIn(page, DEMO.staff);
  await page.goto('/?queue=inventory-control&status=new');
  await hydrated(page);
  const first = rows(page).first().locator('td.id a');
  const id = (await first.textContent()).trim();
  await first.click();
  await hydrated(page);
  const act = page.getByRole('form', { name: 'Act on this exception' });
  await act.getByLabel('Action').selectOption('comment');
  await act.getByLabel('Comment').fill('Shrinkwrap split on the top layer');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByRole('region', { name: 'Timeline' })).toContainText('Shrinkwrap split');

  await page.goto('/?q=shrinkwr+top');
  await hydrated(page);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first().locator('td.id')).toHaveText(id);
});
