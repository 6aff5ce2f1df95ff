/**
 * The admin API against the local stack: only the `admin` group gets in; a person's chat shows up in the user
 * list; a suspension refuses their very next request and lifting it lets them back; a quota override takes
 * effect; and every admin action is in the audit log.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { subjectPseudonym } from '../../../lambdas/audit/record';
import { ROUTES } from '../../../lambdas/contracts/routes';
import { until } from '../async/harness';
import { call } from '../auth/harness';
import { apiBase, machineToken } from '../setup/context';
import { adminToken, personToken } from './harness';

interface AdminUser {
  id: string;
  status: string;
  last_active: string | null;
  usage: { requests: number; tokens_in: number; tokens_out: number; cost: number };
}

const chat = (token: string) =>
  new OpenAI({ baseURL: apiBase(), apiKey: token, maxRetries: 0 }).chat.completions.create({
    model: 'chatstack-local',
    messages: [{ role: 'user', content: 'Say hello.' }],
    max_tokens: 8,
  });

const ADMIN_ROUTES = ROUTES.filter((route) => route.adminOnly);
const concrete = (path: string) => path.replace('{id}', 'someone').replace('{action}', 'suspend');

async function userInList(admin: string, id: string): Promise<AdminUser | undefined> {
  const list = await call(admin, 'GET', '/admin/users');
  expect(list.status).toBe(200);
  return list.json<{ data: AdminUser[] }>().data.find((user) => user.id === id);
}

describe('the admin API', () => {
  it('refuses every admin route to a caller outside the admin group with 403', async () => {
    expect(ADMIN_ROUTES.length).toBeGreaterThanOrEqual(5);
    const person = await personToken(`person-${crypto.randomUUID()}`);
    const machine = await machineToken('a');
    for (const credential of [person, machine]) {
      for (const route of ADMIN_ROUTES) {
        const body = route.method === 'POST' ? {} : undefined;
        const answer = await call(credential, route.method, concrete(route.path).slice('/v1'.length), body);
        expect(answer.status, `${route.method} ${route.path}`).toBe(403);
        expect(answer.json()).toMatchObject({ error: { type: 'permission_error' } });
      }
    }
    // The admin client gets in, and so does a person signed in with the dev login's admin option.
    expect((await call(await adminToken(), 'GET', '/admin/usage')).status).toBe(200);
    const adminPerson = await personToken(`admin-${crypto.randomUUID()}`);
    expect((await call(adminPerson, 'GET', '/admin/users')).status).toBe(200);
  });

  it('lists a person with their usage once they chatted', async () => {
    const id = `person-${crypto.randomUUID()}`;
    const person = await personToken(id);
    const admin = await adminToken();
    const completion = await chat(person);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    await until(async () => ((await userInList(admin, id))?.usage.requests ?? 0) >= 1);
    const user = await userInList(admin, id);
    expect(user).toMatchObject({ status: 'active', last_active: new Date().toISOString().slice(0, 10) });
    expect(user?.usage.tokens_out).toBe(completion.usage?.completion_tokens);
    expect(user?.usage.tokens_in).toBeGreaterThan(0);
    // Priced by the stack's MODEL_PRICES: 1 per prompt token, 2 per answer token.
    expect(user?.usage.cost).toBe((user?.usage.tokens_in ?? 0) + 2 * (user?.usage.tokens_out ?? 0));

    const detail = await call(admin, 'GET', `/admin/users/${id}`);
    expect(detail.status).toBe(200);
    const body = detail.json<{ conversations: number; days: { model: string; requests: number }[] }>();
    expect(body.conversations).toBe(1);
    expect(body.days).toEqual([expect.objectContaining({ requests: 1 })]);
    expect(detail.text).not.toContain('Say hello');

    const csv = await call(admin, 'GET', '/admin/users?format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('id,email,status,last_active,requests,tokens_in,tokens_out,cost');
    expect(csv.text).toContain(`${id},,active,`);
  });

  it('refuses a suspended person’s next request with 403 account_suspended, and lets them back after', async () => {
    const id = `person-${crypto.randomUUID()}`;
    const person = await personToken(id);
    const admin = await adminToken();
    expect((await call(person, 'GET', '/models')).status).toBe(200);
    const created = await call(person, 'POST', '/me/api-keys', { name: 'laptop' });
    expect(created.status).toBe(201);
    const apiKey = created.json<{ key: string }>().key;
    expect((await call(apiKey, 'GET', '/models')).status).toBe(200);

    const suspended = await call(admin, 'POST', `/admin/users/${id}/suspend`);
    expect(suspended.status).toBe(200);
    // Both the access token and the personal API key, from the very next request.
    for (const credential of [person, apiKey]) {
      const refused = await call(credential, 'GET', '/models');
      expect(refused.status).toBe(403);
      expect(refused.json()).toMatchObject({
        error: { code: 'account_suspended', type: 'permission_error' },
      });
    }
    expect(await userInList(admin, id)).toMatchObject({ status: 'suspended' });

    expect((await call(admin, 'POST', `/admin/users/${id}/unsuspend`)).status).toBe(200);
    expect((await call(person, 'GET', '/models')).status).toBe(200);
    expect((await call(apiKey, 'GET', '/models')).status).toBe(200);
  });

  it('applies a quota override at the user’s next request, and the default again once cleared', async () => {
    const id = `person-${crypto.randomUUID()}`;
    const person = await personToken(id);
    const admin = await adminToken();
    const set = await call(admin, 'POST', `/admin/users/${id}/quota`, { requests_per_minute: 1 });
    expect(set.status).toBe(200);
    expect(set.json()).toMatchObject({ quota_override: { requests_per_minute: 1 } });

    await chat(person);
    const refused = await chat(person).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).headers?.get('x-ratelimit-limit-requests')).toBe(
      '1',
    );

    const cleared = await call(admin, 'POST', `/admin/users/${id}/quota`, {
      requests_per_minute: null,
      tokens_per_day: null,
    });
    expect(cleared.json()).toMatchObject({ quota_override: null });
    expect((await chat(person)).choices[0]?.message).toBeDefined();
  });

  it('rejects a malformed override with a 400 naming the field', async () => {
    const answer = await call(await adminToken(), 'POST', '/admin/users/someone/quota', {
      requests_per_minute: -1,
    });
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ error: { param: 'requests_per_minute' } });
  });

  it('records every admin action in the audit log, naming the target by its pseudonym', async () => {
    const id = `person-${crypto.randomUUID()}`;
    const admin = await adminToken();
    await call(admin, 'POST', `/admin/users/${id}/suspend`);
    await call(admin, 'POST', `/admin/users/${id}/unsuspend`);
    await call(admin, 'POST', `/admin/users/${id}/quota`, { tokens_per_day: 1000 });
    const log = await call(admin, 'GET', '/admin/audit');
    expect(log.status).toBe(200);
    const mine = log
      .json<{ data: { type: string; action: string | null; target: string | null; subject: string }[] }>()
      .data.filter((record) => record.target === subjectPseudonym(id));
    expect(mine.map((record) => record.action)).toEqual(['suspend', 'unsuspend', 'quota.set']);
    expect(mine.every((record) => record.type === 'admin.action')).toBe(true);
    expect(mine[0]?.subject).toBe(subjectPseudonym('dev-admin'));
    expect(log.text).not.toContain(id);
  });
});
