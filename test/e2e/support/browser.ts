/**
 * Debian's Chromium driven by playwright-core, as a person uses the app: a fresh profile per test user, sign-in
 * through the dev issuer's login form, axe-core checks in the page, and screenshots for the README.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export interface Viewport {
  readonly width: number;
  readonly height: number;
}
export const DESKTOP: Viewport = { width: 1280, height: 800 };
export const PHONE: Viewport = { width: 390, height: 844 };
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../../../docs/screenshots');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserSession {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/** A headless Chromium with its own empty profile (so each test user starts signed out). */
export async function openBrowser(
  viewport: Viewport = DESKTOP,
  options: { downloadsPath?: string } = {},
): Promise<BrowserSession> {
  const profile = await mkdtemp(join(tmpdir(), 'chatstack-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    acceptDownloads: true,
    ...(options.downloadsPath ? { downloadsPath: options.downloadsPath } : {}),
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Signs in through the app's Sign in button and the dev issuer's form (fields `login` and `password`; any
 * values work, the login becomes the user's id). Returns when the app shows the composer.
 */
export async function signIn(page: Page, webUrl: string, login: string): Promise<void> {
  const webOrigin = new URL(webUrl).origin;
  const backInApp = (url: URL) => url.origin === webOrigin && url.pathname !== '/callback';
  if (new URL(page.url()).origin !== webOrigin) await page.goto(webUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The issuer shows its login form, or (still signed in there) sends the browser straight back.
  await page.waitForURL((url) => url.origin !== webOrigin || backInApp(url));
  if (new URL(page.url()).origin !== webOrigin) {
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any-password');
    await page.locator('button[type="submit"]').click();
    // The dev issuer may ask once to authorise the scopes.
    await page.waitForURL((url) => backInApp(url) || url.pathname.startsWith('/interaction/'));
    const consent = page.getByRole('button', { name: 'Continue' });
    if (new URL(page.url()).origin !== webOrigin && (await consent.isVisible())) await consent.click();
    await page.waitForURL(backInApp);
  }
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Runs axe-core (WCAG 2.x A/AA rules) in the page; returns the serious and critical violations. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => 'axe' in window);
  // Evaluated through the DevTools protocol: the app's Content-Security-Policy forbids inline scripts.
  if (!loaded) await page.evaluate(await readFile(axeSource, 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run: (context: Document, options: unknown) => Promise<unknown> } }
    ).axe;
    const result = (await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    })) as {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    };
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.map(String).join(' ')),
    }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/** Writes `docs/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // Caret blink and hover states would make screenshots differ between runs.
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), animations: 'disabled', caret: 'hide' });
}
