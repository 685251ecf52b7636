const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

const rows = (page) => page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr');

test('filters live in the URL, so a view survives a reload and can be bookmarked', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  const severity = page.getByRole('group', { name: 'Filters' }).locator('details').filter({ hasText: 'Severity' });
  await severity.locator('summary').click();
  await severity.getByLabel('High').check();
  await expect(page).toHaveURL(/severity=high/);
  await expect(rows(page).first()).toBeVisible();
  for (const row of await rows(page).all()) {
    await expect(row).toContainText('High');
  }
  const count = await rows(page).count();
  await page.reload();
  await hydrated(page);
  await expect(severity.locator('summary')).toContainText('Severity: High');
  await expect(rows(page)).toHaveCount(count);
});

test('the keyboard moves through the list and opens an exception', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await expect(rows(page).first()).toBeVisible();
  await page.locator('body').press('j');
  await page.locator('body').press('j');
  await expect(rows(page).nth(1)).toBeFocused();
  const id = (await rows(page).nth(1).locator('td.id').textContent()).trim();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/exceptions/${id.replace('EX-', '')}$`));
  await expect(page.getByRole('heading', { level: 1 })).toContainText(id);
  await expect(page.getByRole('region', { name: 'SLA' })).toContainText('Acknowledge');
});

test('acting on an exception shows on its timeline', async ({ page }) => {
  await signIn(page, DEMO.staff);
  await page.goto('/?queue=inventory-control&status=new');
  await hydrated(page);
  await rows(page).first().locator('td.id a').click();
  await hydrated(page);
  const act = page.getByRole('form', { name: 'Act on this exception' });
  await act.getByLabel('Action').selectOption('acknowledge');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('status')).toHaveText('Done: acknowledge.');
  const timeline = page.getByRole('region', { name: 'Timeline' });
  await expect(timeline).toContainText('user:pat acknowledged');
  await act.getByLabel('Action').selectOption('comment');
  await act.getByLabel('Comment').fill('Counting the bin again this afternoon');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(timeline).toContainText('Counting the bin again this afternoon');
  await expect(page.locator('.detail-head')).toContainText('assigned to pat');
});

test('an action based on a stale view is refused, saying who changed what', async ({ browser }) => {
  const sam = await (await browser.newContext()).newPage();
  const pat = await (await browser.newContext()).newPage();
  await signIn(sam, DEMO.supervisor);
  await signIn(pat, DEMO.staff);
  // Pat's console has not heard of Sam's change (its stream of changes is
  // cut): the server still refuses an action based on what it showed.
  await pat.context().route('**/console/changes', (route) => route.abort());
  await sam.goto('/?queue=receiving&status=new');
  await hydrated(sam);
  const href = await rows(sam).first().locator('td.id a').getAttribute('href');
  await pat.goto(href);
  await hydrated(pat);
  await sam.goto(href);
  await hydrated(sam);
  const samAct = sam.getByRole('form', { name: 'Act on this exception' });
  await samAct.getByLabel('Action').selectOption('acknowledge');
  await samAct.getByRole('button', { name: 'Apply' }).click();
  await expect(samAct.getByRole('status')).toHaveText('Done: acknowledge.');

  const patAct = pat.getByRole('form', { name: 'Act on this exception' });
  await patAct.getByLabel('Action').selectOption('start');
  await patAct.getByRole('button', { name: 'Apply' }).click();
  await expect(patAct.getByRole('alert')).toContainText('changed by user:sam (acknowledged)');
  await expect(pat.locator('.detail-head')).toContainText('Acknowledged');
});

test('a bulk action counts first, then reports each item', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await page.goto('/?queue=billing');
  await hydrated(page);
  await rows(page).nth(0).getByRole('checkbox').check();
  await rows(page).nth(1).getByRole('checkbox').check();
  await page.getByText('Bulk action (2 selected)').click();
  const bulk = page.getByRole('group', { name: 'Bulk action' });
  await bulk.getByLabel('Action').selectOption('comment');
  await bulk.getByLabel('Comment').fill('Asked finance to add the tax codes');
  await bulk.getByRole('button', { name: 'Count' }).click();
  await expect(bulk.getByRole('status')).toHaveText('This will touch 2 exception(s).');
  await bulk.getByRole('button', { name: 'Apply to 2' }).click();
  const progress = page.locator('.bulk-progress');
  await expect(progress).toContainText('Finished.');
  await expect(progress).toContainText('2 done, 0 skipped, 0 refused, 0 failed');
});
