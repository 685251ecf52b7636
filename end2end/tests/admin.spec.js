const http = require('node:http');
const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

test('disabling a user, revoking keys and restoring a version each ask first', async ({ page }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/admin/users');
  await hydrated(page);
  await page.getByRole('button', { name: 'Disable alex' }).click();
  const confirm = page.getByRole('group', { name: 'Confirm' });
  await expect(confirm).toContainText('Disable alex? Their sessions end at once.');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('row', { name: /alex/ })).toContainText('Active');

  await page.goto('/admin/sources');
  await hydrated(page);
  await page.getByRole('button', { name: 'Manage wms' }).click();
  await page.getByRole('button', { name: 'Revoke all keys' }).first().click();
  await expect(page.getByRole('group', { name: 'Confirm' })).toContainText('Its requests are refused at once.');
  await page.getByRole('group', { name: 'Confirm' }).getByRole('button', { name: 'Cancel' }).click();

  await page.goto('/admin/history');
  await hydrated(page);
  // The routing rules have an earlier version at least: the one an empty
  // database starts with.
  await page.getByLabel('Show').selectOption('routing');
  await page.getByRole('button', { name: /^Restore rules version/ }).last().click();
  await expect(page.getByRole('group', { name: 'Confirm' })).toContainText('Make this version the one in force?');
  await page.getByRole('group', { name: 'Confirm' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('group', { name: 'Confirm' })).toHaveCount(0);
});

test('leaving the routing editor with unsaved changes warns', async ({ page }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/admin/routing');
  await hydrated(page);
  await expect(page.getByText('Unsaved changes')).toHaveCount(0);
  await page.getByRole('listitem', { name: 'Rule 1', exact: true }).getByLabel('Rule name').fill('Carrier, TMS and rail failures');
  await expect(page.getByText('Unsaved changes: leaving this page warns first.')).toBeVisible();
  let asked = '';
  page.once('dialog', async (dialog) => {
    asked = dialog.message();
    await dialog.dismiss();
  });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queues' }).click();
  expect(asked).toContain('unsaved changes');
  await expect(page).toHaveURL(/\/admin\/routing$/);
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queues' }).click();
  await expect(page).toHaveURL(/\/admin\/queues$/);
});

test('a connector sends a test request and shows the answer, and an unused one can be deleted', async ({ page }) => {
  const received = [];
  const target = http.createServer((req, res) => {
    received.push(req.headers['crossdock-test']);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"pong":true}');
  });
  await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
  try {
    await signIn(page, DEMO.admin);
    await page.goto('/admin/connectors');
    await hydrated(page);
    const form = page.getByRole('form', { name: 'Connector' });
    await form.getByLabel('Name', { exact: true }).fill('Rail EDI');
    await form.getByLabel('System').selectOption('edi');
    await form.getByLabel('Operation (e.g. tms.create_shipment, or * for all)').fill('edi.send_856');
    await form.getByLabel('URL (http or https)').fill(`http://127.0.0.1:${target.address().port}/edi`);
    await form.getByRole('button', { name: 'Save connector' }).click();
    await expect(form.getByRole('status')).toHaveText('Connector saved.');
    await page.getByRole('button', { name: 'Send a test request to Rail EDI' }).click();
    const answer = page.getByRole('status', { name: 'Test answer' });
    await expect(answer).toContainText('The target answered HTTP 200');
    await expect(answer).toContainText('{"pong":true}');
    expect(received).toEqual(['true']);
    await page.getByRole('button', { name: 'Delete Rail EDI' }).click();
    await page.getByRole('group', { name: 'Confirm' }).getByRole('button', { name: 'Yes, delete it' }).click();
    await expect(page.getByRole('table', { name: 'Connectors' })).not.toContainText('Rail EDI');
  } finally {
    await new Promise((resolve) => target.close(resolve));
  }
});

test('an admin sends a test event from a source page and sees where it would land', async ({ page }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/admin/sources');
  await hydrated(page);
  await page.getByRole('button', { name: 'Manage wms' }).click();
  const form = page.getByRole('form', { name: 'Send a test event as wms' });
  const type = form.getByLabel('Event type (fills in an example)');
  const body = form.getByLabel('Event (a CloudEvent as JSON, or an array of them)');
  await expect(type).toHaveValue('exception.partial_receipt');
  await expect(body).toHaveValue(/"type": "exception.partial_receipt"/);
  await form.getByRole('button', { name: 'Try it' }).click();
  const answer = page.getByRole('status', { name: 'Test answer for wms' });
  await expect(answer).toContainText('Would open an exception in queue receiving');
  await expect(answer).toContainText('In transaction po:PO-10045');
  await expect(answer).toContainText('Accepted exception-partial-receipt-0001');

  // Another type fills in its own example; a broken one is refused at its field.
  await type.selectOption('inventory.snapshot');
  await expect(body).toHaveValue(/"type": "inventory.snapshot"/);
  await body.fill((await body.inputValue()).replace('"erp_qty": 120', '"erp_qty": -5'));
  await form.getByRole('button', { name: 'Try it' }).click();
  await expect(answer).toContainText('Rejected');
  await expect(answer).toContainText('/data/erp_qty');

  // Text that is not JSON is answered with a readable message.
  await expect(body).not.toHaveAttribute('aria-invalid', 'true');
  await body.fill('{"specversion": ');
  await form.getByRole('button', { name: 'Try it' }).click();
  await expect(form).toContainText('this is not JSON');
  await expect(body).toHaveAttribute('aria-invalid', 'true');
  await expect(body).toHaveAccessibleDescription(/this is not JSON/);
});
