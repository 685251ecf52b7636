const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

// The business KPIs over the demo's two weeks: every role reads them, a
// point opens the transactions behind it, an admin sets a target.

test('a clerk reads the KPIs per site and a point opens the transactions behind it', async ({ page }) => {
  await signIn(page, DEMO.staff);
  await page.goto('/kpis');
  await hydrated(page);
  const fill = page.getByRole('region', { name: 'Fill rate' });
  await expect(fill.getByRole('group', { name: 'Fill rate per site' })).toBeVisible();
  await expect(fill.locator('.kpi-headline')).toContainText(/\d+\.\d % over \d+ counted \(target 95\.0 %\)/);
  // The chart's numbers are in a table too.
  await fill.getByText('Data').click();
  const table = fill.getByRole('table', { name: 'Fill rate data' });
  await expect(table.getByRole('columnheader', { name: 'DC-DAL (counted)' })).toBeVisible();
  // Points of several sites may overlap: a keyboard opens each.
  const point = fill.getByRole('link', { name: /^DC-DAL Fill rate \d{4}-\d{2}-\d{2}: / }).first();
  await point.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/transactions\?kpi=fill_rate&site=DC-DAL&from=/);
  await hydrated(page);
  await expect(page.getByRole('link', { name: /^po:PO-2/ }).first()).toBeVisible();
});

test('weeks, one site and one supplier; a bad range is refused in words', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await page.goto('/kpis?period=week&site=DC-ATL');
  await hydrated(page);
  const latency = page.getByRole('region', { name: 'Shipment latency' });
  await latency.getByText('Data').click();
  await expect(latency.getByRole('columnheader', { name: 'Week of' })).toBeVisible();
  await expect(latency.getByRole('columnheader', { name: /counted/ })).toHaveCount(1);
  await page.goto('/kpis?from=2026-11-30&to=2026-11-01');
  await hydrated(page);
  await expect(page.getByRole('alert')).toContainText('must not be before the first day');
});

test('an admin sets a target and the KPI past it is marked', async ({ page }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/kpis');
  await hydrated(page);
  const form = page.getByRole('form', { name: 'KPI targets' });
  await form.getByLabel('Fill rate: at least (%)').fill('101');
  await form.getByRole('button', { name: 'Save targets' }).click();
  await expect(form.getByRole('alert')).toBeVisible();
  await form.getByLabel('Fill rate: at least (%)').fill('100');
  await form.getByRole('button', { name: 'Save targets' }).click();
  await expect(form.getByRole('status')).toHaveText('Targets saved.');
  await page.reload();
  await hydrated(page);
  const fill = page.getByRole('region', { name: 'Fill rate' });
  await expect(fill.locator('.kpi-headline')).toContainText('past target');
  await form.getByLabel('Fill rate: at least (%)').fill('95');
  await form.getByRole('button', { name: 'Save targets' }).click();
  await expect(form.getByRole('status')).toHaveText('Targets saved.');
});
