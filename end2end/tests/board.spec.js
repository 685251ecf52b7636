const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

// The SLA board: a supervisor watches a queue's work turn from at risk to
// breached as the server's clock moves on, and opens the breached cell; an
// admin gives a screen a link that shows counts without signing in, until
// revoked.

async function moveClock(request, seconds) {
  const r = await request.post('/api/v1/test/clock', { data: { advance_seconds: seconds } });
  expect(r.ok()).toBeTruthy();
}

function cell(page, rowName, column) {
  return page.getByRole('row', { name: new RegExp(`^${rowName}`) }).locator(`td.col-${column}`);
}

async function count(locator) {
  return Number((await locator.innerText()).trim());
}

test.describe('the SLA board', () => {
  let moved = 0;
  test.afterEach(async ({ request }) => {
    if (moved) {
      await moveClock(request, -moved);
      moved = 0;
    }
  });

  test('a supervisor sees at-risk work breach as time passes and opens it', async ({ page, request }) => {
    await signIn(page, DEMO.supervisor);
    await page.goto('/board');
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'SLA board' })).toBeVisible();
    const table = page.getByRole('table');
    await expect(table.getByRole('columnheader', { name: 'At risk', exact: true })).toBeVisible();
    // The queue with the most work at risk.
    const rows = await table.locator('tbody tr').all();
    let queue = null;
    let best = 0;
    for (const row of rows) {
      const atRisk = await count(row.locator('td.col-at_risk'));
      if (atRisk > best) {
        best = atRisk;
        queue = (await row.locator('th').innerText()).split('\n')[0].trim();
      }
    }
    expect(queue, 'the demo has work at risk').not.toBeNull();
    const breachedBefore = await count(cell(page, queue, 'breached'));

    // The cell is marked as changed on the refresh that changes it, until
    // the next one: watched as it happens, since the next refresh may come
    // at once (a change heard live).
    await page.evaluate((name) => {
      window.breachMarked = false;
      const check = (el) => {
        const head = el.closest?.('tr')?.querySelector('th');
        if (el.matches?.('td.col-breached.changed') && head?.innerText.trim().startsWith(name)) {
          window.breachMarked = true;
        }
      };
      new MutationObserver((records) => {
        for (const r of records) {
          check(r.target);
          for (const n of r.addedNodes) {
            if (n.querySelectorAll) n.querySelectorAll('td.col-breached').forEach(check);
          }
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
    }, queue);

    // Three days on, every running clock is past its target.
    moved = 3 * 86_400;
    await moveClock(request, moved);
    const breached = cell(page, queue, 'breached');
    await expect.poll(() => count(breached), { timeout: 12_000 }).toBeGreaterThanOrEqual(breachedBefore + best);
    await expect(cell(page, queue, 'at_risk')).toHaveText('0');
    expect(await page.evaluate(() => window.breachMarked)).toBe(true);
    const breachedNow = await count(breached);

    await breached.getByRole('link').click();
    await expect(page).toHaveURL(/\/\?queue=[a-z-]+&sla=breached$/);
    await hydrated(page);
    const list = page.getByRole('table', { name: 'Exceptions' });
    await expect(list.locator('tbody tr')).toHaveCount(Math.min(breachedNow, 50));
  });

  test('a screen link shows the counts without signing in until an admin revokes it', async ({ page, browser }) => {
    await signIn(page, DEMO.admin);
    await page.goto('/board?by=site');
    await hydrated(page);
    await page.getByLabel('Screen name').fill('Dock 3 wall');
    await page.getByLabel('One row per').selectOption('site');
    await page.getByRole('button', { name: 'Create screen link' }).click();
    const address = (await page.locator('code.secret').innerText()).trim();
    expect(address).toMatch(/\/wall\/cdb_/);

    const screen = await browser.newContext();
    const wall = await screen.newPage();
    await wall.goto(address);
    await hydrated(wall);
    await expect(wall.getByRole('heading', { name: 'Dock 3 wall' })).toBeVisible();
    await expect(wall.getByRole('row', { name: /^Atlanta/ })).toBeVisible();
    await expect(wall.getByRole('table').getByRole('link')).toHaveCount(0);
    await expect(wall.getByRole('columnheader', { name: /Median/ })).toHaveCount(0);

    await page.getByRole('button', { name: 'Revoke Dock 3 wall' }).click();
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    await expect(page.getByRole('table', { name: 'Screen links' }).getByText(/Revoked/)).toBeVisible();
    await expect(wall.getByRole('alert')).toContainText('not valid', { timeout: 12_000 });
    await expect(wall.getByRole('table')).toHaveCount(0);
    await screen.close();
  });
});
