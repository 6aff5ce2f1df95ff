/**
 * The admin console in a real browser: an administrator (the dev login's admin option) finds a user who chatted,
 * sorts and searches the users table, opens their page with a chart of their tokens, suspends them (their next
 * API request is refused) and lifts it, reads the usage charts and the audit log. A person outside the admin
 * group never sees the console.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { until } from '../integration/async/harness';
import { requestToken } from '../integration/setup/context';
import { screenshot, seriousAxeViolations } from './support/browser';
import { useE2eStack } from './support/fixture';

const e2e = useE2eStack();

const api = (token: string, path: string, method = 'GET') =>
  fetch(`${e2e.stack().urls.api}/v1${path}`, { method, headers: { authorization: `Bearer ${token}` } });

describe('the admin console', () => {
  it('lists a user who chatted, shows their page and charts, suspends them, and shows the audit log', async () => {
    const user = await requestToken(e2e.stack().urls.issuer, 'b', 'chat:read chat:write');
    const adminToken = await requestToken(e2e.stack().urls.issuer, 'admin', 'chat:read chat:write');
    await new OpenAI({
      baseURL: `${e2e.stack().urls.api}/v1`,
      apiKey: user,
      maxRetries: 0,
    }).chat.completions.create({
      model: 'chatstack-local',
      messages: [{ role: 'user', content: 'Hello there' }],
      max_tokens: 8,
    });
    // The usage aggregator counts the turn from the events stream.
    await until(async () => {
      const list = (await (await api(adminToken, '/admin/users')).json()) as {
        data: { id: string; usage: { requests: number } }[];
      };
      return (list.data.find((each) => each.id === 'dev-client-b')?.usage.requests ?? 0) > 0;
    });

    const page = await e2e.signedIn('admin');
    await page.locator('.account-toggle').click();
    await page.getByRole('button', { name: 'Admin console' }).click();
    await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin');
    const row = page.getByRole('row', { name: /dev-client-b/ });
    await row.waitFor();
    await page.getByRole('button', { name: 'Requests' }).click();
    await expect
      .poll(() => page.getByRole('columnheader', { name: 'Requests' }).getAttribute('aria-sort'))
      .toBe('descending');
    await screenshot(page, 'admin-users');
    await page.getByLabel('Search', { exact: true }).fill('client-b');
    await expect.poll(() => page.locator('.admin-table tbody tr').count()).toBe(1);
    expect(await seriousAxeViolations(page)).toEqual([]);

    await row.getByRole('button', { name: 'dev-client-b' }).click();
    await page.getByRole('heading', { name: 'dev-client-b', level: 2 }).waitFor();
    await page.getByRole('img', { name: 'Tokens per day of dev-client-b' }).locator('canvas').waitFor();
    await screenshot(page, 'admin-user');

    await page.getByRole('button', { name: 'Suspend', exact: true }).click();
    await page.getByRole('button', { name: 'Unsuspend', exact: true }).waitFor();
    const refused = await api(user, '/models');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('account_suspended');
    await page.getByRole('button', { name: 'Unsuspend', exact: true }).click();
    await page.getByRole('button', { name: 'Suspend', exact: true }).waitFor();
    expect((await api(user, '/models')).status).toBe(200);

    await page.getByRole('tab', { name: 'Usage' }).click();
    await page.getByRole('img', { name: 'Requests and tokens per day' }).locator('canvas').waitFor();
    await screenshot(page, 'admin-usage');

    await page.getByRole('tab', { name: 'Audit log' }).click();
    await page.getByRole('cell', { name: 'unsuspend' }).waitFor();
    await expect
      .poll(() => page.getByRole('cell', { name: 'suspend', exact: true }).count())
      .toBeGreaterThan(0);
    await screenshot(page, 'admin-audit');
  });

  it('is not offered to a person outside the admin group', async () => {
    const page = await e2e.signedIn('person');
    await page.locator('.account-toggle').click();
    await page.getByRole('button', { name: 'API keys' }).waitFor();
    expect(await page.getByRole('button', { name: 'Admin console' }).count()).toBe(0);
  });
});
