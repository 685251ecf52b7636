const { test, expect } = require('@playwright/test');
const { DEMO, signIn } = require('./helpers');

function receipt(id, po) {
  return {
    specversion: '1.0', id, source: 'e2e-wms/dc-atl', type: 'exception.partial_receipt', time: '2026-11-24T15:42:10Z',
    data: { site: 'DC-ATL', refs: { po, supplier: 'SUP-017' }, po, line: 1, item: 'SKU-20418', expected_qty: 100, received_qty: 60 },
  };
}

test('an admin routes one supplier’s partial receipts to a new queue, dry-runs it, saves, and the next event lands there', async ({ page, request }) => {
  await signIn(page, DEMO.admin);
  const nav = page.getByRole('navigation', { name: 'Main' });

  // A source to send the event with: its key is shown once.
  await nav.getByRole('link', { name: 'Sources' }).click();
  const newSource = page.getByRole('form', { name: 'New source' });
  await newSource.getByLabel('Name').fill('e2e-wms');
  await newSource.getByLabel('Source prefixes').fill('e2e-wms');
  await newSource.getByRole('button', { name: 'Create source' }).click();
  const key = (await newSource.locator('code.secret').textContent()).trim();
  expect(key).toMatch(/^cdx_/);

  // The new queue.
  await nav.getByRole('link', { name: 'Queues' }).click();
  const queue = page.getByRole('form', { name: 'Queue' });
  await queue.getByLabel('Key').fill('sup017-receipts');
  await queue.getByLabel('Name').fill('SUP-017 receipts');
  await queue.getByLabel('Owning team').fill('Purchasing');
  await queue.getByLabel('SLA policy').selectOption('Purchasing');
  await queue.getByLabel('Business calendar').selectOption('DC-ATL');
  await queue.getByRole('button', { name: 'Save queue' }).click();
  await expect(queue.getByRole('status')).toHaveText('Queue saved.');

  // The rule, added last and moved to the top.
  await nav.getByRole('link', { name: 'Routing' }).click();
  await page.getByRole('button', { name: 'Add rule' }).click();
  const count = await page.getByRole('listitem', { name: /^Rule \d+$/ }).count();
  const rule = page.getByRole('listitem', { name: `Rule ${count}` });
  await rule.getByLabel('Rule name').fill('SUP-017 receipts');
  await rule.getByRole('button', { name: 'Add condition' }).click();
  await rule.getByRole('button', { name: 'Add condition' }).click();
  await rule.getByLabel('Value').nth(0).fill('exception.partial_receipt');
  await rule.getByLabel('Field').nth(1).selectOption('supplier');
  await rule.getByLabel('Value').nth(1).fill('SUP-017');
  await rule.getByLabel('Queue').selectOption('sup017-receipts');

  // Left at the bottom, the receipts rule above shadows it: the save is refused.
  await page.getByRole('button', { name: 'Save rules' }).click();
  await expect(page.getByRole('listitem', { name: `Rule ${count}` }).getByRole('alert').first()).toContainText('never reached');
  for (let i = count; i > 1; i--) {
    await page.getByRole('button', { name: `Move rule ${i} up` }).click();
  }
  await expect(page.getByRole('listitem', { name: 'Rule 1', exact: true }).getByLabel('Rule name')).toHaveValue('SUP-017 receipts');

  await page.getByLabel('Event (JSON)').fill(JSON.stringify(receipt('dry-1', 'PO-99017')));
  await page.getByRole('button', { name: 'Dry run' }).click();
  await expect(page.locator('.decision')).toContainText('sup017-receipts');
  await expect(page.locator('.decision')).toContainText('SUP-017 receipts');

  await page.getByRole('button', { name: 'Save rules' }).click();
  await expect(page.getByText('Rules saved.')).toBeVisible();

  // The next event from that supplier lands in the new queue.
  const response = await request.post('/api/v1/events', {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/cloudevents+json' },
    data: JSON.stringify(receipt('e2e-1', 'PO-99017')),
  });
  expect(response.status()).toBe(200);
  expect((await response.json()).exception).toBe('opened');

  await nav.getByRole('link', { name: 'Exceptions' }).click();
  await page.getByRole('searchbox', { name: 'Search' }).fill('PO-99017');
  const rows = page.getByRole('table', { name: 'Exceptions' }).locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('sup017-receipts');
});

test('the server denies every configuration action to a non-admin', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  const statuses = await page.evaluate(async () => {
    const form = (name, body) => fetch(`/console/${name}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body,
    }).then((r) => r.status);
    const json = (name, body) => fetch(`/console/${name}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    }).then((r) => r.status);
    const rules = { rules: [], fallback_queue: 'triage' };
    return {
      routing: await form('routing', ''),
      save_queue: await form('save_queue', 'key=x&name=X&team=T&sla_policy=Warehouse&site=DC-ATL'),
      create_source: await form('create_source', 'name=x&prefixes=x%2F&rate_per_sec=1&burst=1'),
      dry_run: await json('dry_run', { rules, event: '{}' }),
      save_routing: await json('save_routing', { rules, reroute: false }),
      save_site: await json('save_site', { site: { code: 'X', name: 'X', calendar: { time_zone: 'UTC', hours: { kind: '24x7' } } } }),
    };
  });
  for (const [action, status] of Object.entries(statuses)) {
    expect(status, action).toBe(403);
  }
});
