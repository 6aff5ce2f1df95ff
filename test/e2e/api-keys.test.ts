/**
 * Personal API keys and the API reference in a real browser: a signed-in person makes a key in the web app,
 * copies it once, sees it listed (never again in full), uses it from the `openai` client, revokes it; the
 * API reference at /docs renders docs/openapi.json and its "Try it out" calls the API with the session.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { screenshot, seriousAxeViolations } from './support/browser';
import { useE2eStack } from './support/fixture';

const e2e = useE2eStack();

const signedIn = (name: string) => e2e.signedIn(name);

describe('the API keys page', () => {
  it('creates a key that is shown once, works with the openai client, and can be revoked', async () => {
    const page = await signedIn('keys');
    await page.locator('.account-toggle').click();
    await page.getByRole('button', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/keys');
    await page.getByText('You have no API keys yet.').waitFor();

    await page.getByLabel('Name').fill('notebook experiments');
    await page.getByLabel('Expires after').selectOption('30');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByTestId('new-api-key').inputValue();
    expect(secret).toMatch(/^csk_[0-9A-Za-z]{46}$/);

    await page.getByRole('button', { name: 'Copy the API key' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const snippet = await page.locator('#snippet-panel pre').textContent();
    expect(snippet).toContain(`${e2e.stack().urls.api}/v1/chat/completions`);

    const row = page.getByRole('row', { name: /notebook experiments/ });
    await row.waitFor();
    expect(await row.textContent()).toContain(`${secret.slice(0, 12)}…`);
    expect(await row.textContent()).not.toContain(secret.slice(12));
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'api-keys-desktop');

    const client = new OpenAI({ baseURL: `${e2e.stack().urls.api}/v1`, apiKey: secret, maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data.length).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.reload();
    await row.waitFor();
    expect(await page.getByTestId('new-api-key').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    expect(await row.textContent()).not.toContain('Never');

    await page.getByRole('button', { name: 'Revoke notebook experiments' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('You have no API keys yet.').waitFor();
    const refusal = await client.models.list().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('the API reference at /docs', () => {
  it('renders the OpenAPI document and tries a request with the signed-in session', async () => {
    const page = await signedIn('docs');
    await page.goto(`${e2e.stack().urls.web}/docs`);
    await page.getByRole('heading', { name: 'API reference', level: 1 }).waitFor();
    const reference = page.getByTestId('api-reference');
    await reference.getByText('chatstack API', { exact: false }).first().waitFor();
    for (const path of ['/v1/chat/completions', '/v1/models', '/v1/me/api-keys']) {
      await reference.locator('.opblock-summary-path', { hasText: path }).first().waitFor();
    }
    const snippet = await page.locator('#snippet-panel pre').textContent();
    expect(snippet).toContain(`curl ${e2e.stack().urls.api}/v1/chat/completions`);
    await page.getByRole('tab', { name: 'openai (Python)' }).click();
    expect(await page.locator('#snippet-panel pre').textContent()).toContain(
      `OpenAI(base_url="${e2e.stack().urls.api}/v1"`,
    );

    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'api-docs-desktop');

    const models = reference.locator('.opblock-get', { has: page.locator('[data-path="/v1/models"]') });
    await models.locator('.opblock-summary').click();
    await models.getByRole('button', { name: 'Try it out' }).click();
    await models.getByRole('button', { name: 'Execute' }).click();
    const status = models.locator('.live-responses-table .response .response-col_status').first();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/200/);
    expect(await models.locator('.live-responses-table .microlight').first().textContent()).toContain(
      '"object": "list"',
    );
    await models.locator('.live-responses-table').scrollIntoViewIfNeeded();
    await screenshot(page, 'api-docs-try-it-desktop');
  });
});
