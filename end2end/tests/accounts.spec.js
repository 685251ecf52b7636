const { test, expect } = require('@playwright/test');
const { DEMO, hydrated, signIn } = require('./helpers');

const SECTIONS = ['Queues', 'Users', 'Sources', 'Audit trail'];
const OPENS = {
  staff: [],
  supervisor: [],
  auditor: ['Audit trail'],
  admin: ['Queues', 'Users', 'Sources', 'Audit trail'],
};

for (const [role, who] of Object.entries(DEMO)) {
  test(`the ${role} signs in and sees the sections the role opens`, async ({ page }) => {
    await signIn(page, who);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Exceptions' })).toBeVisible();
    for (const section of SECTIONS) {
      const link = nav.getByRole('link', { name: section });
      if (OPENS[role].includes(section)) {
        await expect(link).toBeVisible();
      } else {
        await expect(link).toHaveCount(0);
      }
    }
    await expect(page.getByRole('banner')).toContainText(role.charAt(0).toUpperCase() + role.slice(1));
  });
}

test('a wrong password is answered next to the field, without saying which part was wrong', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('User name').fill('pat');
  await page.getByLabel('Password').fill('not-the-right-one');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('wrong user name or password');
  await expect(page).toHaveURL(/\/login$/);
});

test('the server denies a staff member who calls an admin function directly', async ({ page }) => {
  await signIn(page, DEMO.staff);
  const status = await page.evaluate(async () => {
    const response = await fetch('/console/list_users', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    return response.status;
  });
  expect(status).toBe(403);
  await page.goto('/admin/users');
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
});

test('after signing out the back button shows nothing private', async ({ page }) => {
  await signIn(page, DEMO.supervisor);
  await expect(page.getByRole('table', { name: 'Exceptions' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goBack();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Exceptions' })).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});

test('an admin creates a user, with the password policy explained next to the field', async ({ page }) => {
  await signIn(page, DEMO.admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  const form = page.getByRole('form', { name: 'New user' });
  await form.getByLabel('User name').fill('jo.park');
  await form.getByLabel('Name', { exact: true }).fill('Jo Park');
  await form.getByLabel('Password').fill('password1234');
  await form.getByLabel('receiving').check();
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(form.locator('#new-password-error')).toContainText('too common');
  await form.getByLabel('Password').fill('crate-lantern-meadow-81');
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(form.getByRole('status')).toHaveText('User created.');
  const users = page.getByRole('table', { name: 'Users' });
  await expect(users.getByRole('row', { name: /jo\.park/ })).toContainText('receiving');
});
