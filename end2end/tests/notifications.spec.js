const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

// Escalations tell people: a clerk finds the at-risk work of the queues
// they work in the bell, opens it, and it is read; an admin sets what a
// queue escalates to.

function bell(page) {
  return page.getByRole('banner').getByRole('button', { name: /^Notifications/ });
}

async function unread(page) {
  const text = await bell(page).innerText();
  return Number(text.match(/(\d+) unread/)[1]);
}

test('a clerk gets the at-risk notification in the bell and opening it marks it read', async ({ page }) => {
  await signIn(page, DEMO.staff);
  await hydrated(page);
  await expect(bell(page)).toContainText(/[1-9]\d* unread/);
  const before = await unread(page);
  await bell(page).click();
  const list = page.getByRole('region', { name: 'Notifications' });
  await expect(list).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(list).toBeHidden();
  await bell(page).click();
  const atRisk = list.getByRole('link', { name: /EX-\d+ at risk in Receiving/ }).first();
  await expect(atRisk).toBeVisible();
  const href = await atRisk.getAttribute('href');
  await atRisk.click();
  await expect(page).toHaveURL(new RegExp(`${href}$`));
  await hydrated(page);
  await expect(bell(page)).toContainText(`${before - 1} unread`);
  // The timeline says the escalation happened, as a system action.
  await expect(page.getByText(/At risk: notified pat/)).toBeVisible();
});

test('an admin sets what a queue escalates to; a bad number is refused at its field', async ({ page }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/admin/escalations');
  await hydrated(page);
  const minutes = page.getByLabel('Receiving: not acknowledged within minutes');
  await expect(minutes).toHaveValue('30');
  await minutes.fill('soon');
  await page.getByRole('button', { name: 'Save escalations' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'whole number of minutes' })).toBeVisible();
  await minutes.fill('20');
  await page.getByLabel('Billing: move when breached to').selectOption('');
  await page.getByRole('button', { name: 'Save escalations' }).click();
  await expect(page.getByRole('status')).toHaveText('Escalations saved.');
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Receiving: not acknowledged within minutes')).toHaveValue('20');
  await expect(page.getByLabel('Billing: move when breached to')).toHaveValue('');
});

test('an admin sets up a signed webhook channel, sends a test and reads its delivery', async ({ page }) => {
  const target = process.env.CROSSDOCK_E2E_TARGET_PORT || '3901';
  await signIn(page, DEMO.admin);
  await page.goto('/admin/channels');
  await hydrated(page);
  const form = page.getByRole('form', { name: 'Channel' });
  await form.getByLabel('Name').fill('ops-hook');
  await form.getByLabel('Webhook address').fill('not a url');
  await form.getByRole('button', { name: 'Save channel' }).click();
  await expect(form.getByRole('alert').filter({ hasText: 'http:// or https://' })).toBeVisible();
  await form.getByLabel('Webhook address').fill(`http://127.0.0.1:${target}/wms`);
  await form.getByLabel('Not acknowledged').uncheck();
  await form.getByRole('button', { name: 'Save channel' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'copy it now' })).toContainText('whsec_');
  const row = page.getByRole('table', { name: 'Channels' }).getByRole('row', { name: /ops-hook/ });
  await expect(row).toContainText('JSON webhook (signed)');
  await expect(row).toContainText('At risk, Breached');
  await row.getByRole('button', { name: 'Send a test' }).click();
  const delivery = page.getByRole('table', { name: 'Deliveries' }).getByRole('row', { name: /Test message/ }).first();
  await expect(delivery).toContainText('delivered', { timeout: 15_000 });
  await expect(delivery).toContainText(/#1: HTTP 200 in \d+ ms/);
});

test('a person chooses which notifications go outward and the choice is kept', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await hydrated(page);
  await bell(page).click();
  await page.getByRole('link', { name: 'Choose what is sent outward' }).click();
  await expect(page).toHaveURL(/\/settings\/notifications$/);
  await hydrated(page);
  await page.getByLabel('Breached').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Breached')).toBeChecked();
  await expect(page.getByLabel('At risk')).not.toBeChecked();
});
