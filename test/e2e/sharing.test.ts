/**
 * Feedback and share links in a real browser (Debian's Chromium) against the local stack: a person rates an
 * answer with a thumb and a comment (kept after a reload, cleared by pressing it again); shares a conversation,
 * copies the link, and someone signed out opens it — sanitised, not indexed — until the link is revoked. Also
 * the README's pictures of a realistic conversation (desktop, dark mode, phone) and of a shared page.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserSession,
  DESKTOP,
  openBrowser,
  PHONE,
  screenshot,
  seriousAxeViolations,
  signIn,
  type Viewport,
} from './support/browser';
import { seedConversation, TRIP_CONVERSATION } from './support/seed';
import { type E2eStack, startE2eStack } from './support/stack';

let stack: E2eStack;
const sessions: BrowserSession[] = [];
let userCount = 0;

beforeAll(async () => {
  stack = await startE2eStack();
});

afterAll(async () => {
  await stack?.stop();
});

afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
});

async function browser(viewport: Viewport = DESKTOP): Promise<Page> {
  const session = await openBrowser(viewport);
  sessions.push(session);
  return session.page;
}

/**
 * A signed-in browser for a person of their own; their login is their user id. `exact` keeps the name as given
 * (a picture's account menu shows it; the stack's table starts empty at every run).
 */
async function signedIn(
  name: string,
  viewport: Viewport = DESKTOP,
  exact = false,
): Promise<{ page: Page; login: string }> {
  const page = await browser(viewport);
  const login = exact ? name : `${name}-${++userCount}-${Date.now()}`;
  await signIn(page, stack.urls.web, login);
  return { page, login };
}

const answers = (page: Page) => page.locator('article.message.assistant');

async function openConversation(page: Page, conversationId: string): Promise<void> {
  await page.goto(`${stack.urls.web}/c/${conversationId}`);
  await answers(page).first().waitFor();
}

/** Shares the open conversation through the dialog and returns the link it shows. */
async function shareThroughDialog(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Share conversation' }).click();
  const dialog = page.getByRole('dialog', { name: 'Share conversation' });
  await dialog.getByRole('button', { name: /Create link|Update link/ }).click();
  const link = dialog.getByRole('textbox', { name: 'Share link' });
  await link.waitFor();
  return link.inputValue();
}

describe('feedback', () => {
  it('rates an answer with a thumb and a comment, keeps it after a reload, and clears it', async () => {
    const { page } = await signedIn('rater');
    await page.getByRole('textbox', { name: 'Message' }).fill('Tell me something about owls.');
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await expect
      .poll(
        async () =>
          (await answers(page).count()) > 0 &&
          (await answers(page).last().getAttribute('aria-busy')) === 'false',
        {
          timeout: 60_000,
        },
      )
      .toBe(true);
    const answer = answers(page).last();
    const good = answer.getByRole('button', { name: 'Good answer' });
    await good.click();
    await expect.poll(() => good.getAttribute('aria-pressed')).toBe('true');
    await answer.getByRole('textbox', { name: /What was good or bad/ }).fill('Short, but to the point.');
    await answer.getByRole('button', { name: 'Send' }).click();
    await answer.getByText('“Short, but to the point.”').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'feedback-desktop');

    await page.reload();
    const reloaded = answers(page).last();
    await reloaded.getByText('“Short, but to the point.”').waitFor();
    expect(await reloaded.getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed')).toBe(
      'true',
    );
    expect(await reloaded.getByRole('button', { name: 'Bad answer' }).getAttribute('aria-pressed')).toBe(
      'false',
    );

    // Pressing the chosen thumb again clears the rating, also on the server.
    await reloaded.getByRole('button', { name: 'Good answer' }).click();
    await expect
      .poll(() => reloaded.getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed'))
      .toBe('false');
    await page.reload();
    const cleared = answers(page).last();
    await cleared.getByRole('button', { name: 'Good answer' }).waitFor();
    expect(await cleared.getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed')).toBe(
      'false',
    );
    expect(await cleared.getByText('Short, but to the point.').count()).toBe(0);
  });
});

describe('the admin console’s feedback view', () => {
  it('lists a rating with its comment and answer, and charts the rates per day and model', async () => {
    const { page, login } = await signedIn('critic');
    const conversationId = await seedConversation(stack.urls, login, TRIP_CONVERSATION);
    await openConversation(page, conversationId);
    const answer = answers(page).last();
    await answer.getByRole('button', { name: 'Bad answer' }).click();
    await answer.getByRole('textbox', { name: /What was good or bad/ }).fill('It forgot the Aerobus.');
    await answer.getByRole('button', { name: 'Send' }).click();
    await answer.getByText('“It forgot the Aerobus.”').waitFor();

    const admin = await browser(DESKTOP);
    await signIn(admin, stack.urls.web, `admin-${Date.now()}`);
    await admin.goto(`${stack.urls.web}/admin`);
    await admin.getByRole('tab', { name: 'Feedback' }).click();
    const row = admin.getByRole('row', { name: /It forgot the Aerobus\./ });
    await row.waitFor();
    expect(await row.textContent()).toContain('Down');
    expect(await row.textContent()).toContain('The metro is the easiest');
    await admin.getByRole('img', { name: 'Ratings per day' }).locator('canvas').waitFor();
    const model = admin.getByRole('row', { name: /chatstack-local/ }).first();
    expect(Number((await model.locator('td').nth(2).textContent()) ?? '0')).toBeGreaterThanOrEqual(1);
    expect(await seriousAxeViolations(admin)).toEqual([]);
    await screenshot(admin, 'admin-feedback');
  });
});

describe('sharing', () => {
  it('shares a conversation, opens the link signed out, and revokes it', async () => {
    const { page, login } = await signedIn('sharer');
    const conversationId = await seedConversation(stack.urls, login, TRIP_CONVERSATION);
    await openConversation(page, conversationId);
    const link = await shareThroughDialog(page);
    expect(link).toMatch(new RegExp(`^${stack.urls.web}/s/shr_[A-Za-z0-9_-]{22}$`));
    const dialog = page.getByRole('dialog', { name: 'Share conversation' });
    await dialog.getByRole('button', { name: 'Copy link' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    expect(await seriousAxeViolations(page)).toEqual([]);

    // Someone with no session at all opens the link.
    const visitor = await browser(DESKTOP);
    await visitor.goto(link);
    await visitor.getByRole('heading', { name: TRIP_CONVERSATION.title }).waitFor();
    expect(await visitor.locator('article.message.user').allTextContents()).toEqual(
      TRIP_CONVERSATION.turns.map((turn) => turn.question),
    );
    expect(await answers(visitor).first().locator('strong').first().textContent()).toBe(
      'Saturday — Alfama and Baixa',
    );
    expect(await visitor.locator('meta[name="robots"]').getAttribute('content')).toContain('noindex');
    expect(await visitor.getByRole('button', { name: 'Sign in' }).count()).toBe(0);
    expect(await visitor.getByRole('button', { name: /Good answer|Share conversation/ }).count()).toBe(0);
    expect(await seriousAxeViolations(visitor)).toEqual([]);
    await screenshot(visitor, 'shared-desktop');
    await visitor.setViewportSize(PHONE);
    await screenshot(visitor, 'shared-phone');

    // Revoked: the same page now says the conversation is not available.
    await dialog.getByRole('button', { name: 'Revoke link' }).click();
    await dialog.getByText('The link no longer works.').waitFor();
    await visitor.reload();
    await visitor.getByRole('heading', { name: 'Not available' }).waitFor();
    expect(await visitor.locator('article.message').count()).toBe(0);
  });

  it('renders a shared answer through the sanitiser: raw HTML stays text and runs nothing', async () => {
    const { page, login } = await signedIn('sanitised');
    const conversationId = await seedConversation(stack.urls, login, {
      title: 'Untrusted output',
      turns: [
        {
          question: 'Show me some HTML.',
          answer:
            'Here: <img src="https://images.example/pixel.png" onerror="document.title=\'pwned\'"> and <script>document.title="pwned"</script> done.',
        },
      ],
    });
    await openConversation(page, conversationId);
    const link = await shareThroughDialog(page);
    const visitor = await browser(DESKTOP);
    const imageRequests: string[] = [];
    visitor.on('request', (request) => {
      if (request.url().startsWith('https://images.example')) imageRequests.push(request.url());
    });
    await visitor.goto(link);
    await visitor.getByRole('heading', { name: 'Untrusted output' }).waitFor();
    const answer = answers(visitor).first();
    expect(await answer.locator('img, script').count()).toBe(0);
    expect(await answer.textContent()).toContain('<img src="https://images.example/pixel.png"');
    expect(await visitor.title()).not.toBe('pwned');
    expect(imageRequests).toEqual([]);
  });
});

describe('README pictures', () => {
  it('shows a realistic conversation on a desktop, in dark mode and on a phone', async () => {
    const { page, login } = await signedIn('Ana', DESKTOP, true);
    const conversationId = await seedConversation(stack.urls, login, TRIP_CONVERSATION);
    await openConversation(page, conversationId);
    await answers(page).first().getByRole('button', { name: 'Good answer' }).click();
    await expect
      .poll(() =>
        answers(page).first().getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed'),
      )
      .toBe('true');
    // The comment box the thumb opened is closed for the picture.
    await answers(page).first().getByRole('button', { name: 'Close' }).click();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'chat-desktop');
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'chat-desktop-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize(PHONE);
    await answers(page).last().scrollIntoViewIfNeeded();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'chat-phone');
  });
});
