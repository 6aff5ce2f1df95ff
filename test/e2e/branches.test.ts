/**
 * Resumable answers and branches in a real browser against the local stack and its model: a reload or a second
 * tab mid-answer shows the answer continuing to its end, Stop ends it with its text kept, an edited question and
 * a regenerated answer are new versions beside the old ones (`‹ 2/2 ›`), and switching back shows the old one.
 * "Mid-answer" is an event, not a race: the model's stream is held by a gate in front of the SageMaker runtime
 * (support/model-gate.ts) once the browser has text, and let go by the test.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE, screenshot, seriousAxeViolations, signIn } from './support/browser';
import { useE2eStack } from './support/fixture';
import { type ModelGate, startModelGate } from './support/model-gate';

let gate: ModelGate | undefined;
const e2e = useE2eStack(async () => {
  gate = await startModelGate();
  return {
    handlerEnv: { AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: gate.url },
  };
});
beforeAll(() => gateOf().forwardTo(e2e.stack().urls.sagemaker));
afterAll(async () => {
  await gate?.close();
});

function gateOf(): ModelGate {
  if (!gate) throw new Error('the model gate is not started');
  return gate;
}

/** The generated model's end-of-text token: banned, so an answer runs to `max_tokens`. */
const EOS_TOKEN = '258';
/** Content tokens let through before a held answer waits: more than output moderation holds back (256 chars). */
const TOKENS_BEFORE_HOLD = 600;

const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });
const answers = (page: Page) => page.locator('article.message.assistant');
const questions = (page: Page) => page.locator('article.message.user');
/** The last answer's text as shown (its Markdown body; empty while it has none). */
async function answerText(page: Page): Promise<string> {
  const body = answers(page).last().locator('.markdown');
  return (await body.count()) === 0 ? '' : ((await body.textContent()) ?? '').trim();
}
const busy = async (page: Page) => (await answers(page).last().getAttribute('aria-busy')) === 'true';

async function send(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** Waits until `count` answers are shown and the last has stopped streaming. */
async function settled(page: Page, count: number): Promise<void> {
  await expect
    .poll(async () => (await answers(page).count()) === count && !(await busy(page)), { timeout: 90_000 })
    .toBe(true);
}

/** The page's chat requests ask for a long answer: `max_tokens` with the end-of-text token banned. */
async function longAnswers(page: Page): Promise<void> {
  await page.route(`${e2e.stack().urls.api}/v1/chat/completions`, (route) => {
    const body = route.request().postDataJSON() as Record<string, unknown>;
    return route.continue({
      postData: JSON.stringify({ ...body, max_tokens: 1500, seed: 7, logit_bias: { [EOS_TOKEN]: -100 } }),
    });
  });
}

/** Sends a question whose answer the gate holds once the browser shows its first text. */
async function heldAnswer(page: Page, question: string) {
  await longAnswers(page);
  const held = gateOf().holdNext(TOKENS_BEFORE_HOLD);
  // Released after the test whatever happens, so no model call outlives it.
  e2e.cleanup(async () => held.release());
  await send(page, question);
  await held.reached;
  await expect.poll(async () => (await answerText(page)).length, { timeout: 30_000 }).toBeGreaterThan(0);
  return held;
}

async function conversationIdOf(page: Page): Promise<string> {
  await expect.poll(() => page.url()).toMatch(/\/c\/conv_[0-9a-f]{32}$/);
  return new URL(page.url()).pathname.slice('/c/'.length);
}

interface StoredAnswer {
  readonly role: string;
  readonly status: string;
  readonly content: string;
}

/** The conversation's stored messages, read with the page's own session. */
async function storedMessages(page: Page, conversationId: string): Promise<StoredAnswer[]> {
  const api = e2e.stack().urls.api;
  return page.evaluate(
    async ({ api, conversationId }) => {
      const session = JSON.parse(
        Object.entries(sessionStorage).find(([key]) => key === 'chatstack.session')?.[1] ?? '{}',
      ) as { accessToken?: string };
      const response = await fetch(`${api}/v1/conversations/${conversationId}`, {
        headers: { authorization: `Bearer ${session.accessToken}` },
      });
      return ((await response.json()) as { messages: StoredAnswer[] }).messages;
    },
    { api, conversationId },
  );
}

const versions = (page: Page, of: 'question' | 'answer') =>
  page.getByRole('group', { name: `Versions of this ${of}` });

describe('resumable answers in the web app', () => {
  it('continues an answer after a reload mid-answer, to its end', async () => {
    const page = await e2e.signedIn('reload');
    const held = await heldAnswer(page, 'Tell me a long story about the sea.');
    const conversationId = await conversationIdOf(page);
    const before = await answerText(page);

    await page.reload();

    // The stored answer is followed from where it is: its text so far, still being written.
    await expect.poll(() => busy(page), { timeout: 30_000 }).toBe(true);
    await expect.poll(async () => (await answerText(page)).length).toBeGreaterThanOrEqual(before.length);
    await screenshot(page, 'answer-after-reload');
    held.release();
    await settled(page, 1);
    expect((await answerText(page)).length).toBeGreaterThan(before.length);
    expect(await page.locator('.message-note').count()).toBe(0);
    const stored = (await storedMessages(page, conversationId)).at(-1);
    expect(stored?.status).toBe('complete');
    expect(stored?.content.length).toBeGreaterThan(before.length);
  });

  it('shows the same answer continuing in a second tab', async () => {
    const page = await e2e.signedIn('tabs');
    const held = await heldAnswer(page, 'Describe a long journey across the mountains.');
    const conversationId = await conversationIdOf(page);
    const second = await e2e.session().context.newPage();
    // A new tab has its own session storage: it signs in again (the issuer remembers the person).
    await signIn(second, e2e.stack().urls.web, e2e.lastLogin());
    await second.goto(`${e2e.stack().urls.web}/c/${conversationId}`);

    await expect.poll(() => busy(second), { timeout: 30_000 }).toBe(true);
    await expect.poll(async () => (await answerText(second)).length).toBeGreaterThan(0);
    await screenshot(second, 'answer-second-tab');
    held.release();
    await settled(second, 1);
    await settled(page, 1);
    expect(await answerText(second)).toBe(await answerText(page));
    expect((await storedMessages(page, conversationId)).at(-1)?.status).toBe('complete');
  });

  it('stops an answer with Stop: it ends interrupted and keeps its text, also in another tab', async () => {
    const page = await e2e.signedIn('stop');
    await heldAnswer(page, 'Write a very long essay about rivers.');
    const conversationId = await conversationIdOf(page);
    const other = await e2e.session().context.newPage();
    await signIn(other, e2e.stack().urls.web, e2e.lastLogin());
    await other.goto(`${e2e.stack().urls.web}/c/${conversationId}`);
    await expect.poll(() => busy(other), { timeout: 30_000 }).toBe(true);

    await page.getByRole('button', { name: 'Stop generating' }).click();

    await settled(page, 1);
    await page.getByText('Stopped. The answer so far is kept.').waitFor();
    expect((await answerText(page)).length).toBeGreaterThan(0);
    // The server ends it too (the stop reaches the generating process through the store), and so does the other tab.
    await settled(other, 1);
    await other.getByText('This answer was interrupted before it finished.').waitFor();
    const stored = (await storedMessages(page, conversationId)).at(-1);
    expect(stored?.status).toBe('interrupted');
    expect(stored?.content.length).toBeGreaterThan(0);
    await page.reload();
    await page.getByText('This answer was interrupted before it finished.').waitFor();
    expect(await answerText(page)).toBe(await answerText(other));
    await screenshot(page, 'answer-stopped');
  });
});

describe('branches in the web app', () => {
  it('edits a question as a new version; switching back shows the old question and its answer', async () => {
    const page = await e2e.signedIn('edit');
    await send(page, 'What is a lighthouse?');
    await settled(page, 1);
    await send(page, 'Who keeps it?');
    await settled(page, 2);
    const oldAnswer = await answerText(page);

    const edit = () => questions(page).last().getByRole('button', { name: 'Edit question' });
    const editor = page.getByRole('textbox', { name: 'Edited question' });
    // Escape leaves the question as it was and gives the focus back to its Edit button; Enter opens it again.
    await edit().click();
    await editor.press('Escape');
    await expect.poll(() => editor.count()).toBe(0);
    await expect.poll(() => edit().evaluate((button) => button === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await editor.fill('Who kept it a hundred years ago?');
    await screenshot(page, 'edit-question-editing');
    await editor.press('Enter');
    await settled(page, 2);

    await expect
      .poll(async () => (await versions(page, 'question').textContent())?.includes('2/2'))
      .toBe(true);
    expect(await questions(page).last().locator('.bubble').textContent()).toBe(
      'Who kept it a hundred years ago?',
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'edit-question');

    await page.getByRole('button', { name: 'Previous version of this question' }).click();
    await expect.poll(() => questions(page).last().locator('.bubble').textContent()).toBe('Who keeps it?');
    expect(await answerText(page)).toBe(oldAnswer);
    expect(await versions(page, 'question').textContent()).toContain('1/2');
    // The switch is stored: a reload shows the same branch.
    await page.reload();
    await expect
      .poll(() => questions(page).last().locator('.bubble').textContent(), { timeout: 30_000 })
      .toBe('Who keeps it?');
    expect(await answerText(page)).toBe(oldAnswer);
  });

  it('keeps the previous answer when regenerating, reachable with the keyboard (phone, dark)', async () => {
    const page = await e2e.signedIn('regenerate', PHONE);
    await page.emulateMedia({ colorScheme: 'dark' });
    await send(page, 'Name a colour.');
    await settled(page, 1);
    const first = await answerText(page);

    await page.getByRole('button', { name: 'Regenerate answer' }).click();
    await expect.poll(() => versions(page, 'answer').count(), { timeout: 90_000 }).toBe(1);
    await settled(page, 1);
    expect(await versions(page, 'answer').textContent()).toContain('2/2');
    const second = await answerText(page);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'regenerate-versions-phone-dark');

    const previous = page.getByRole('button', { name: 'Previous version of this answer' });
    await previous.focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await versions(page, 'answer').textContent())?.includes('1/2')).toBe(true);
    expect(await answerText(page)).toBe(first);
    // At the first version the focus stays in the switcher, on the way back.
    const next = page.getByRole('button', { name: 'Next version of this answer' });
    await expect.poll(() => next.evaluate((button) => button === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await versions(page, 'answer').textContent())?.includes('2/2')).toBe(true);
    expect(await answerText(page)).toBe(second);
  });
});
