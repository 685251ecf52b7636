const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

const rows = (page) => page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr');

// The receiving clerk's day: a short receipt found by its PO on a compact
// list with site-local times, claimed, put on hold for the supplier at once,
// taken up again when the supplier answers, resolved with a chosen code.
test('a receiving clerk works a short receipt from claim to resolution', async ({ page }) => {
  await signIn(page, DEMO.staff);
  await expect(page.getByRole('table', { name: 'Exceptions' })).toHaveClass(/density-compact/);
  await page.getByRole('searchbox', { name: 'Search' }).fill('PO-10073');
  await expect(rows(page)).toHaveCount(1);
  const row = rows(page).first();
  await expect(row).toContainText('Partial receipt');
  await expect(row.locator('td.due time')).toHaveText(/ C[SD]T$/);
  await row.locator('td.id a').click();
  await hydrated(page);

  const act = page.getByRole('form', { name: 'Act on this exception' });
  const sla = page.getByRole('region', { name: 'SLA' });
  await act.getByLabel('Action').selectOption('claim');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('status')).toHaveText('Done: claim.');
  await expect(page.locator('.detail-head')).toContainText('Acknowledged');
  await expect(page.locator('.detail-head')).toContainText('assigned to pat');

  // Waiting on the supplier is offered right away: no need to find "Start".
  await act.getByLabel('Action').selectOption('wait');
  await act.getByLabel('Waiting on').selectOption('supplier');
  await act.getByLabel('Reason').fill('asked the supplier when the missing 30 EA ship');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('status')).toHaveText('Done: wait.');
  await expect(page.locator('.detail-head')).toContainText('Waiting');
  await expect(sla).toContainText('Paused since');

  await act.getByLabel('Action').selectOption('resume');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('status')).toHaveText('Done: resume.');
  await expect(sla).not.toContainText('Paused since');

  await act.getByLabel('Action').selectOption('resolve');
  await act.getByLabel('Resolution').selectOption('fixed_externally');
  await act.getByLabel('Note (optional)').fill('the supplier ships the 30 EA on Thursday');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('status')).toHaveText('Done: resolve.');
  await expect(page.locator('.detail-head')).toContainText('Resolved');
  const timeline = page.getByRole('region', { name: 'Timeline' });
  for (const step of ['claimed', 'waiting', 'resumed', 'resolved']) {
    await expect(timeline).toContainText(`user:pat ${step}`);
  }
  await expect(timeline).toContainText('fixed_externally: the supplier ships the 30 EA on Thursday');
  await expect(timeline.locator('time').first()).toHaveText(/ C[SD]T$/);
});

test('a newcomer replays a failed message to the demo target and watches it go through', async ({ page }) => {
  await signIn(page, DEMO.staff);
  await page.getByRole('searchbox', { name: 'Search' }).fill('SO-79012');
  // Wait for the search to narrow the list before opening its one row.
  await expect(rows(page)).toHaveCount(1);
  await rows(page).first().locator('td.id a').click();
  await hydrated(page);
  const panel = page.getByRole('region', { name: 'Replay' });
  await expect(panel).toContainText('WMS (demo)');
  await panel.getByRole('button', { name: 'Replay', exact: true }).click();
  await expect(panel.locator('[data-replay="replayed"]')).toBeVisible({ timeout: 20_000 });
  await expect(panel.getByRole('table', { name: 'Attempts' })).toContainText('delivered');
  await expect(panel.getByText(/queued\.$/)).toHaveCount(0);
  await expect(page.locator('.detail-head')).toContainText('Resolved');
});
