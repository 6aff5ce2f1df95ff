/**
 * The web app while the model wakes from zero: the local stack serves the model from a cold inference component.
 * The first message gets 503 `model_waking`; the app says the model is waking up, counts down `retry-after`, sends
 * the message again by itself, and shows the answer.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useE2eStack } from './support/fixture';

const e2e = useE2eStack({
  env: { INFERENCE_COLD_START_MS: '8000' },
  handlerEnv: { QUOTA_REQUESTS_PER_MINUTE: '100000' },
});

const answer = (page: Page) => page.locator('article.message.assistant').last();

describe('a waking model in the web app', () => {
  it('says the model is waking up, retries after retry-after, and shows the answer', async () => {
    const page = await e2e.signedIn('waking');

    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('Hello there');
    await composer.press('Enter');

    const banner = page.locator('.problem.waking');
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.locator('.problem-title').textContent()).toBe('The model is waking up');
    expect(await banner.locator('.countdown').textContent()).toMatch(/Retrying in \d+ s/);

    // No click: the app sends the message again when the wait ends, and the (now awake) model answers.
    await expect
      .poll(
        async () =>
          (await answer(page).count()) > 0 && (await answer(page).getAttribute('aria-busy')) === 'false',
        {
          timeout: 60_000,
        },
      )
      .toBe(true);
    expect((await answer(page).textContent())?.trim().length).toBeGreaterThan(0);
    expect(await page.locator('.problem.waking').count()).toBe(0);
  }, 150_000);
});
