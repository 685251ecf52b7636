const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

const table = (page) => page.getByRole('table', { name: 'Exceptions' });
const rows = (page) => table(page).locator('tbody tr');
const filters = (page) => page.getByRole('group', { name: 'Filters' });
const multi = (page, label) => filters(page).locator('details').filter({ hasText: label });

async function open(page, key) {
  await page.goto(`/?q=${encodeURIComponent(key)}&status=any`);
  await hydrated(page);
  await rows(page).first().locator('td.id a').click();
  // The page comes with a part of the bundle of its own: wait until it shows.
  await expect(page.getByRole('link', { name: '← Exceptions' })).toBeVisible();
}

test('on the exception page the keys do what the help line says, and nothing else', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await open(page, 'SHP-4480');
  const kind = page.getByRole('form', { name: 'Act on this exception' }).getByLabel('Action');
  await page.getByRole('heading', { level: 1 }).click();
  await page.keyboard.press('a');
  await expect(kind).toHaveValue('assign');
  await expect(kind).toBeFocused();
  await page.getByRole('heading', { level: 1 }).click();
  await page.keyboard.press('c');
  await expect(kind).toHaveValue('comment');
  await page.getByRole('heading', { level: 1 }).click();
  await page.keyboard.press('e');
  await expect(kind).toHaveValue('resolve');
  await expect(page.getByText('Keys: a assign, c comment, e resolve.')).toBeVisible();
});

test('a move to another queue shows what happens to the deadlines before it is made, and is recorded', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await open(page, 'PO-10059');
  const act = page.getByRole('form', { name: 'Act on this exception' });
  await act.getByLabel('Action').selectOption('assign');
  await act.getByLabel('Queue').selectOption('purchasing');
  const preview = act.getByRole('note', { name: 'What the move does' });
  await expect(preview).toContainText('keeps the SLA policy it was opened under');
  await expect(preview).toContainText('America/New_York');
  await expect(preview).toContainText('Resolve due');
  await act.getByLabel('Reason').fill('the buyer chases the supplier for shortages');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('status')).toHaveText('Done: assign.');
  const timeline = page.getByRole('region', { name: 'Timeline' });
  await expect(timeline).toContainText('queue: receiving → purchasing');
  await expect(page.getByRole('region', { name: 'SLA' })).toContainText('business hours of queue purchasing');
});

test('status “Open” is the default, “Any” finds closed work, and an empty view says what hides everything', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await page.getByRole('searchbox', { name: 'Search' }).fill('PO-10100');
  await expect(page.getByRole('status').filter({ hasText: 'No exceptions match.' })).toBeVisible();
  const why = page.getByLabel('Why nothing is shown');
  await expect(why).toContainText('search “PO-10100”');
  await expect(why).toContainText('status: open only');
  await why.getByRole('button', { name: 'Include resolved and dismissed' }).click();
  // The supplier's date change, and the late acknowledgement the lineage
  // sweep filed and closed when it came.
  await expect(rows(page)).toHaveCount(2);
  for (const row of await rows(page).all()) {
    await expect(row).toContainText('Resolved');
  }
  await expect(page).toHaveURL(/status=any/);
  await expect(multi(page, 'Status').locator('summary')).toContainText('Status: any');
  await page.getByRole('searchbox', { name: 'Search' }).fill('nothing like this');
  await page.getByLabel('Why nothing is shown').getByRole('button', { name: 'Clear all filters' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(rows(page).first()).toBeVisible();
});

test('the list: keys apart and searchable, one page without “First page”, sort without “Any”, empty queues counted', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await expect(rows(page).first()).toBeVisible();
  await expect(page.getByRole('button', { name: 'First page' })).toHaveCount(0);
  await expect(page.getByLabel('Sort by').locator('option')).toHaveText(['SLA due', 'Severity', 'Age']);
  await expect(page.getByRole('complementary', { name: 'Counts' })).toContainText('triage (0)');
  await open(page, 'PO-10045');
  const keys = page.locator('.detail-head').getByRole('list', { name: 'Business keys' }).getByRole('listitem');
  await expect(keys).toHaveCount(5);
  await expect(keys.nth(0)).toHaveText('PO PO-10045');
  await keys.filter({ hasText: 'ASN' }).getByRole('link').click();
  await expect(page).toHaveURL(/q=ASN-55120&status=any/);
  await expect(rows(page)).toHaveCount(1);
});

test('waiting work shows its clock paused, and resolving asks for a resolution', async ({ page }) => {
  await signIn(page, DEMO.staff);
  await expect(rows(page).filter({ hasText: 'PO-10045' })).toContainText('(paused)');
  await open(page, 'PO-10045');
  await expect(page.getByRole('region', { name: 'SLA' })).toContainText('Paused since');
  const act = page.getByRole('form', { name: 'Act on this exception' });
  await expect(act.getByLabel('Action').locator('option', { hasText: 'Claim' })).toHaveCount(0);
  await act.getByLabel('Action').selectOption('resolve');
  await expect(act.getByLabel('Resolution')).toHaveValue('');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('alert')).toContainText('choose a resolution');
});

test('several values per filter, and site, supplier and person offered in the page', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  const site = multi(page, 'Site');
  await site.locator('summary').click();
  await site.getByLabel('DC-DAL').check();
  await site.getByLabel('DC-RNO').check();
  await expect(page).toHaveURL(/site=DC-DAL&site=DC-RNO/);
  await expect(rows(page).first()).toBeVisible();
  for (const row of await rows(page).all()) {
    await expect(row.locator('td').nth(8)).toHaveText(/DC-DAL|DC-RNO/);
  }
  await page.getByLabel('Supplier', { exact: true }).fill('SUP-017');
  await page.getByLabel('Supplier', { exact: true }).press('Enter');
  await expect(page).toHaveURL(/supplier=SUP-017/);
  await page.getByLabel('Assignee').selectOption('pat');
  await expect(page).toHaveURL(/assignee=pat/);
});

test('rows are one line each, comfortable on request, remembered for the person', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await expect(table(page)).toHaveClass(/density-compact/);
  const toggle = page.getByRole('button', { name: 'Comfortable rows' });
  await toggle.click();
  await expect(table(page)).toHaveClass(/density-comfortable/);
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await page.waitForTimeout(300);
  await page.reload();
  await hydrated(page);
  await expect(table(page)).toHaveClass(/density-comfortable/);
  await page.getByRole('button', { name: 'Comfortable rows' }).click();
  await expect(table(page)).toHaveClass(/density-compact/);
});

test('auditors see no selection or bulk controls they could not use', async ({ page }) => {
  await signIn(page, DEMO.auditor);
  await expect(rows(page).first()).toBeVisible();
  await expect(table(page).getByRole('checkbox')).toHaveCount(0);
  await expect(page.getByText(/^Bulk action/)).toHaveCount(0);
  await open(page, 'PO-10045');
  await expect(page.getByRole('form', { name: 'Act on this exception' })).toHaveCount(0);
});

test('a bulk acknowledge refreshes the rows it touched and reports every change', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await page.goto('/?type=exception.inventory_mismatch&status=new&site=DC-RNO');
  await hydrated(page);
  const first = rows(page).first();
  await expect(first).toContainText('New');
  const id = (await first.locator('td.id').textContent()).trim();
  await first.getByRole('checkbox').check();
  await page.getByText(/^Bulk action/).click();
  const bulk = page.getByRole('group', { name: 'Bulk action' });
  await bulk.getByLabel('Action').selectOption('acknowledge');
  await bulk.getByRole('button', { name: 'Count' }).click();
  await bulk.getByRole('button', { name: 'Apply to 1' }).click();
  const outcomes = page.getByRole('table', { name: 'Outcomes' });
  await expect(outcomes).toContainText('status: New → Acknowledged; assignee: — → sam');
  // Without waiting for the next refresh, the list no longer shows it as new.
  await expect(table(page).locator('td.id').getByText(id, { exact: true })).toHaveCount(0, { timeout: 3000 });
});

test('times are shown in the site’s time zone, with UTC on hover', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await page.goto('/?site=DC-DAL');
  await hydrated(page);
  const due = rows(page).first().locator('td.due time');
  await expect(due).toHaveText(/ C[SD]T$/);
  await expect(due).toHaveAttribute('title', / UTC$/);
  await page.goto('/?site=DC-RNO');
  await hydrated(page);
  await expect(rows(page).first().locator('td.due time')).toHaveText(/ P[SD]T$/);
});

test.describe('the person’s own zone where no site applies', () => {
  test.use({ timezoneId: 'Europe/Paris' });
  test('the audit trail is in the reader’s zone', async ({ page }) => {
    await signIn(page, DEMO.auditor);
    await page.goto('/audit');
    await hydrated(page);
    await expect(page.getByRole('table', { name: 'Audit trail' }).locator('tbody time').first()).toHaveText(/ GMT\+1$/);
  });
});
