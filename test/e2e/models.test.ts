/**
 * The model picker, in a real browser against a local stack serving two models: it appears (it is absent with
 * one model, as every other browser test shows), the chosen model answers, and the choice survives a reload.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserSession,
  DESKTOP,
  openBrowser,
  screenshot,
  seriousAxeViolations,
  signIn,
} from './support/browser';
import { type E2eStack, startE2eStack } from './support/stack';

const SECOND = 'chatstack-local-2';

let stack: E2eStack;
let session: BrowserSession | undefined;

beforeAll(async () => {
  stack = await startE2eStack({ env: { MODEL_2_PATH: 'generated' } });
});

afterAll(async () => {
  await stack?.stop();
});

afterEach(async () => {
  await session?.close();
  session = undefined;
});

/** The user messages an inference server received (it records them in tests). */
async function questionsAt(server: string | undefined): Promise<string[]> {
  if (server === undefined) throw new Error('the stack serves one model');
  const body = (await (await fetch(`${server}/debug/requests`)).json()) as {
    data: { body: { messages?: { role: string; content: string }[] } }[];
  };
  return body.data.flatMap((entry) =>
    (entry.body.messages ?? [])
      .filter((message) => message.role === 'user')
      .map((message) => message.content),
  );
}

const picker = (page: Page) => page.getByRole('combobox', { name: 'Model' });

describe('choosing a model', () => {
  it('offers both models, answers with the chosen one and keeps the choice across a reload', async () => {
    session = await openBrowser(DESKTOP);
    const { page } = session;
    await signIn(page, stack.urls.web, `models-${Date.now()}`);

    // The picker appears once the app has listed the models.
    await picker(page).waitFor();
    expect(await picker(page).locator('option').allTextContents()).toEqual(['chatstack-local', SECOND]);
    expect(await picker(page).inputValue()).toBe('chatstack-local');
    await picker(page).selectOption(SECOND);

    // This stack is the test's own: the second model's server has heard no other question.
    const question = 'Which model answers?';
    await page.getByRole('textbox', { name: 'Message' }).fill(question);
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    const answer = page.locator('article.message.assistant').last();
    await expect
      .poll(async () => (await answer.count()) > 0 && (await answer.getAttribute('aria-busy')) === 'false', {
        timeout: 60_000,
      })
      .toBe(true);
    expect(await questionsAt(stack.urls.inference2)).toContain(question);
    expect(await questionsAt(stack.urls.inference)).not.toContain(question);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'chat-models-desktop');

    await page.reload();
    await picker(page).waitFor();
    expect(await picker(page).inputValue()).toBe(SECOND);
  });
});
