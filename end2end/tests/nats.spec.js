const { test, expect } = require('@playwright/test');
const { connect, headers: natsHeaders } = require('nats');
const { DEMO, hydrated, signIn } = require('./helpers');

// The server takes events from the stream CROSSDOCK_E2E (subjects
// `e2e.events.>`) of the NATS server on 127.0.0.1:4222 (scripts/e2e-server.sh).
test('an admin gives a source a NATS subject; its events are filed and a poison message is set aside', async ({ page }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/admin/sources');
  await hydrated(page);
  await page.getByRole('button', { name: 'Manage wms' }).click();
  await page.getByLabel('NATS subject (empty: not on NATS)').fill('e2e.events..wms');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText(/a subject is dot-separated tokens/)).toBeVisible();
  await page.getByLabel('NATS subject (empty: not on NATS)').fill('e2e.events.wms.>');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('row', { name: /^wms/ })).toContainText('e2e.events.wms.>');

  const run = Date.now().toString(36);
  const nc = await connect({ servers: '127.0.0.1:4222' });
  try {
    const good = {
      specversion: '1.0', id: `nats-${run}`, source: 'wms/dc-atl', type: 'exception.partial_receipt',
      time: new Date().toISOString(), subject: `PO-N${run}`,
      data: { site: 'DC-ATL', refs: { po: `PO-N${run}`, supplier: 'SUP-017' }, po: `PO-N${run}`, line: 1,
        item: 'SKU-20418', expected_qty: 24, received_qty: 20 },
    };
    nc.publish('e2e.events.wms.dc-atl', JSON.stringify(good));
    // Binary mode with a `source` the wms source may not write as.
    const h = natsHeaders();
    for (const [k, v] of [['ce-specversion', '1.0'], ['ce-id', `poison-${run}`], ['ce-source', 'erp/orders'],
      ['ce-type', 'exception.partial_receipt'], ['ce-time', new Date().toISOString()]]) h.set(k, v);
    nc.publish('e2e.events.wms.dc-atl', JSON.stringify({ ...good.data, po: `PO-X${run}` }), { headers: h });
    nc.publish('e2e.events.nobody.here', JSON.stringify({ ...good, id: `stray-${run}` }));
    await nc.flush();
  } finally {
    await nc.close();
  }

  // The good event is filed like one sent over HTTP.
  await expect(async () => {
    await page.goto(`/?q=PO-N${run}`);
    await expect(page.getByText(`PO-N${run}`).first()).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20000 });

  // The poison message is on the source's row with its reason.
  await expect(async () => {
    await page.goto('/admin/sources');
    await hydrated(page);
    await expect(page.getByRole('row', { name: /^wms/ })).toContainText('set aside', { timeout: 1000 });
  }).toPass({ timeout: 20000 });
  await page.getByRole('button', { name: 'Manage wms' }).click();
  const aside = page.getByRole('table', { name: 'Messages set aside' });
  await expect(aside).toContainText('is not under the prefixes of source wms');
  await expect(aside).toContainText('e2e.events.wms.dc-atl');

  await expect(async () => {
    await page.goto('/admin/sources');
    await hydrated(page);
    const stray = page.getByRole('table', { name: 'Messages no source takes' });
    await expect(stray).toContainText(`stray-${run}`, { timeout: 1000 });
    await expect(stray).toContainText('no source takes the subject `e2e.events.nobody.here`', { timeout: 1000 });
  }).toPass({ timeout: 20000 });
});
