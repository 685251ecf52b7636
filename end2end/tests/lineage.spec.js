const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

// Lineage: a purchasing clerk follows a short receipt to its purchase order
// end to end, and finds it again by its ASN number; a staff member sees an
// exception of another queue only as that.

test('a clerk follows a short receipt to its transaction and finds it again by its ASN', async ({ page }) => {
  await signIn(page, DEMO.staff);
  await page.goto('/?q=PO-10045');
  await hydrated(page);
  await page.getByRole('table', { name: 'Exceptions' }).getByRole('link', { name: /EX-/ }).first().click();
  const strip = page.getByRole('navigation', { name: 'Transaction' });
  await expect(strip).toContainText('po:PO-10045');
  await expect(strip.getByRole('listitem', { name: 'Receipt posted: reached' })).toBeVisible();
  await strip.getByRole('link', { name: 'Open its lineage' }).click();

  await expect(page.getByRole('heading', { name: 'Transaction po:PO-10045' })).toBeVisible();
  const lanes = page.getByRole('table', { name: 'Lanes' });
  for (const milestone of ['PO acknowledged', 'ASN received', 'Receipt posted']) {
    await expect(lanes.getByRole('article', { name: milestone })).toBeVisible();
  }
  await expect(lanes.getByRole('article', { name: 'Receipt posted' })).toContainText('received 228 in 1 line(s)');
  // The short receipt sits at the receipt stage.
  const exceptions = lanes.locator('tr.exceptions-lane td');
  const receiptColumn = 4; // system, PO created, acknowledged, ASN, receipt
  await expect(exceptions.nth(receiptColumn - 1)).toContainText('Partial receipt');
  // A milestone opens as it was received.
  const asn = lanes.getByRole('article', { name: 'ASN received' });
  await asn.getByRole('button', { name: 'The event as received' }).click();
  await expect(asn.getByRole('region', { name: 'Event as received' })).toContainText('"asn": "ASN-55120"');

  // The same transaction, found by typing its ASN number into the search box.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exceptions' }).click();
  await hydrated(page);
  await page.getByLabel('Search').fill('ASN-55120');
  await expect(page.getByRole('link', { name: 'Open its transaction (Enter)' })).toBeVisible();
  await page.getByLabel('Search').press('Enter');
  await expect(page.getByRole('heading', { name: 'Transaction po:PO-10045' })).toBeVisible();
});

test('on a transaction, an exception of another queue shows to staff only as that', async ({ page, request }) => {
  await signIn(page, DEMO.staff);
  // PO-10100's supplier moved its date: a purchasing exception, not Pat's queue.
  await page.goto('/transactions?supplier=SUP-044');
  await hydrated(page);
  await page.getByRole('table', { name: 'Transactions' }).getByRole('link', { name: 'po:PO-10100' }).click();
  await expect(page.getByRole('heading', { name: 'Transaction po:PO-10100' })).toBeVisible();
  const hidden = page.getByRole('article', { name: 'Exception in another queue' });
  await expect(hidden.first()).toContainText('An exception in another queue');
  await expect(page.getByRole('link', { name: /EX-/ })).toHaveCount(0);
  // Its details stay closed to Pat's session, whatever the id.
  const id = await page.evaluate(async () => {
    const r = await fetch('/console/transactions', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: { supplier: 'SUP-044' } }),
    });
    return (await r.json())[0].id;
  });
  expect(id).toBeGreaterThan(0);
  const refused = await page.evaluate(async () => {
    const all = [];
    for (let i = 1; i <= 60; i += 1) {
      const r = await fetch('/console/exception_detail', {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `id=${i}`,
      });
      if (r.ok) all.push((await r.json()).item.queue);
    }
    return all;
  });
  expect(refused.every((q) => q === 'receiving' || q === 'inventory-control')).toBe(true);
});

test('the transactions list shows what is stuck, longest first', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await page.goto('/transactions?stuck=24');
  await hydrated(page);
  const rows = page.getByRole('table', { name: 'Transactions' }).locator('tbody tr');
  await expect(rows.first()).toContainText('po:PO-10052');
  await expect(page.getByRole('table', { name: 'Transactions' })).not.toContainText('po:PO-10045');
});

test('a shipment with no proof of delivery is marked overdue, with its exception at that stage', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await hydrated(page);
  // Enter opens the transaction at once, without waiting for the hint.
  await page.getByLabel('Search').fill('SHP-4480');
  await page.getByLabel('Search').press('Enter');
  await expect(page.getByRole('heading', { name: /^Transaction / })).toBeVisible();
  await hydrated(page);
  // The sweep runs in the background every few seconds: it finds the
  // delivery overdue and files one exception, routed to transportation.
  const stage = page.getByRole('list', { name: 'Stages' }).getByRole('listitem', { name: 'Delivered: overdue' });
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(stage).toBeVisible({ timeout: 1000 });
    await expect(page.getByRole('article', { name: /^Exception EX-/ }).filter({ hasText: 'Milestone overdue' })).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 30000 });
  const overdue = page.getByRole('article', { name: /^Exception EX-/ }).filter({ hasText: 'Milestone overdue' });
  await expect(overdue).toContainText('no delivered since dispatched');
  await overdue.getByRole('link', { name: /EX-/ }).click();
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('no delivered since dispatched');
  await expect(page.getByText('queue transportation', { exact: false }).first()).toBeVisible();
});

test('an admin changes what is expected; a bad number is refused at its field, and the change is in the history', async ({ page }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/admin/expectations');
  await hydrated(page);
  const form = page.getByRole('form', { name: 'Expectations' });
  await expect(form.getByLabel('Expectation 3 after')).toHaveValue('shipment.dispatched');
  await expect(form.getByLabel('Expectation 3 expects')).toHaveValue('delivery.confirmed');
  await expect(form.getByLabel('Expectation 3 within hours')).toHaveValue('72');

  await form.getByLabel('Expectation 3 within hours').fill('0');
  await form.getByRole('button', { name: 'Save expectations' }).click();
  await expect(form.getByRole('alert').first()).toContainText('between 1 and 1440 hours');

  await form.getByRole('button', { name: 'Add expectation' }).click();
  await form.getByLabel('Expectation 5 after').selectOption('order.released');
  await form.getByLabel('Expectation 5 expects').selectOption('order.allocated');
  await form.getByLabel('Expectation 5 within hours').fill('4');
  await form.getByLabel('Expectation 3 within hours').fill('96');
  await form.getByRole('button', { name: 'Save expectations' }).click();
  await expect(form.getByRole('status')).toHaveText('Expectations saved.');

  await page.reload();
  await hydrated(page);
  await expect(form.getByLabel('Expectation 3 within hours')).toHaveValue('96');
  await expect(form.getByLabel('Expectation 5 expects')).toHaveValue('order.allocated');

  await page.goto('/admin/history');
  await hydrated(page);
  await page.getByLabel('Show').selectOption('expectations');
  const versions = page.getByRole('table', { name: 'Versions' });
  await expect(versions).toContainText('user:morgan');
  await versions.getByRole('button', { name: /^Show/ }).first().click();
  await expect(versions).toContainText('order.allocated');
});
