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
