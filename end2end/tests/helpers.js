const { expect } = require('@playwright/test');

// The demo accounts created with the demo data.
const DEMO = {
  staff: { username: 'pat', password: 'receiving-dock-pallet-7', name: 'Pat Rivera' },
  supervisor: { username: 'sam', password: 'supervisor-board-amber-9', name: 'Sam Okafor' },
  auditor: { username: 'alex', password: 'audit-trail-ledger-5', name: 'Alex Chen' },
  admin: { username: 'morgan', password: 'admin-console-harbor-3', name: 'Morgan Blake' },
};

async function hydrated(page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

async function signIn(page, who) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('User name').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('banner').getByText(who.name)).toBeVisible();
}

// The server's time: the system's, moved the whole days the config chose.
function serverNow() {
  return Date.now() + Number(process.env.CROSSDOCK_TEST_CLOCK_DAYS || 0) * 86_400_000;
}

module.exports = { DEMO, hydrated, serverNow, signIn };
