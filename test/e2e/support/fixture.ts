/**
 * The set-up every browser test file shares: one local stack for the file (started before its tests, stopped
 * after), browsers opened for a test closed after it (with whatever else the test registered), and a signed-in
 * page for a user of its own, since conversations and quotas are per user.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type BrowserSession, DESKTOP, openBrowser, signIn, type Viewport } from './browser';
import { type E2eStack, type E2eStackOptions, startE2eStack } from './stack';

export interface E2eFixture {
  /** The file's stack (started in `beforeAll`). */
  stack(): E2eStack;
  /** A new browser with an empty profile, closed after the test. */
  openSession(viewport?: Viewport, options?: { downloadsPath?: string }): Promise<BrowserSession>;
  /** The browser opened last in this test (throws when none is). */
  session(): BrowserSession;
  /** A new browser signed in as a new user named after `name`; resolves with its page showing the composer. */
  signedIn(name?: string, viewport?: Viewport): Promise<Page>;
  /** The login of the user `signedIn` made last. */
  lastLogin(): string;
  /** Runs after the test, after its browsers are closed. */
  cleanup(run: () => Promise<void>): void;
}

/** Registers the file's hooks; options may be computed when the stack starts (e.g. after a helper listens). */
export function useE2eStack(options: E2eStackOptions | (() => Promise<E2eStackOptions>) = {}): E2eFixture {
  let stack: E2eStack | undefined;
  const sessions: BrowserSession[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let users = 0;
  let login = '';

  beforeAll(async () => {
    stack = await startE2eStack(typeof options === 'function' ? await options() : options);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  afterEach(async () => {
    for (const session of sessions.splice(0)) await session.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  const fixture: E2eFixture = {
    stack: () => {
      if (!stack) throw new Error('The e2e stack is not started (use the fixture inside tests).');
      return stack;
    },
    openSession: async (viewport = DESKTOP, browserOptions = {}) => {
      const session = await openBrowser(viewport, browserOptions);
      sessions.push(session);
      return session;
    },
    session: () => {
      const session = sessions.at(-1);
      if (!session) throw new Error('No browser is open in this test.');
      return session;
    },
    signedIn: async (name = 'user', viewport = DESKTOP) => {
      const session = await fixture.openSession(viewport);
      login = `${name}-${++users}-${Date.now()}`;
      await signIn(session.page, fixture.stack().urls.web, login);
      return session.page;
    },
    lastLogin: () => login,
    cleanup: (run) => {
      cleanups.push(run);
    },
  };
  return fixture;
}
