const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

// What one person does shows on another's open page without a reload: the
// server tells every signed-in console of each change (/console/changes).
// The watching page's own clock is paused once it is interactive and its
// stream open, so its timers (which read again every 10 s) cannot be what
// brings the change.

async function following(page) {
  await hydrated(page);
  await expect(page.locator('body')).toHaveAttribute('data-live', 'open');
}

async function person(browser, who) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, who);
  return page;
}

test('a claim made by one person shows at once on the exception page and the queue another has open', async ({ browser }) => {
  const sam = await person(browser, DEMO.supervisor);
  const pat = await person(browser, DEMO.staff);
  await sam.clock.install();
  await sam.goto('/?queue=receiving&assignee=none');
  await hydrated(sam);
  const href = await sam.getByRole('table', { name: 'Exceptions' }).locator('tbody tr td.id a').first().getAttribute('href');
  const id = href.split('/').pop();

  // Pat opens the exception; Sam watches it, his page's timers stopped.
  await pat.goto(href);
  await hydrated(pat);
  await sam.goto(href);
  await following(sam);
  await expect(sam.locator('.detail-head')).not.toContainText('assigned to');
  await sam.clock.pauseAt(Date.now() + 1_000);

  const act = pat.getByRole('form', { name: 'Act on this exception' });
  await act.getByLabel('Action').selectOption('claim');
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('status')).toHaveText('Done: claim.');
  await expect(sam.locator('.detail-head')).toContainText('assigned to pat');
  await expect(sam.getByRole('region', { name: 'Timeline' })).toContainText('user:pat claimed');

  // The queue Sam goes back to drops the exception when Pat resolves it.
  await sam.goto('/?queue=receiving&assignee=pat');
  await following(sam);
  const row = sam.locator(`tbody tr:has(td.id a[href="${href}"])`);
  await expect(row).toHaveCount(1);
  await sam.clock.pauseAt(Date.now() + 2_000);
  await act.getByLabel('Action').selectOption('resolve');
  await act.getByLabel('Resolution').selectOption('fixed_externally');
  await act.getByLabel('Note (optional)').fill(`checked with the dock, exception ${id}`);
  await act.getByRole('button', { name: 'Apply' }).click();
  await expect(act.getByRole('status')).toHaveText('Done: resolve.');
  await expect(row).toHaveCount(0);
  await sam.context().close();
  await pat.context().close();
});
