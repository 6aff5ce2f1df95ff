/**
 * "My files" in a real browser (Debian's Chromium) against the local stack: a person uploads a document with the
 * file picker, sees it processed, downloads it back, sees why a broken one could not be read, and deletes it; in
 * chat, attaches a PDF with the attach button and a text file by dropping it on the composer, asks about a fact in
 * one, and sees the passage holding it cited under the answer (and the files' chips on the message sent).
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fillerText, makePdf } from '../helpers/pdf';
import { screenshot, seriousAxeViolations } from './support/browser';
import { useE2eStack } from './support/fixture';

const e2e = useE2eStack();

async function openMyFiles(): Promise<Page> {
  const page = await e2e.signedIn('files');
  await page.locator('.account-toggle').click();
  await page.getByRole('button', { name: 'My files' }).click();
  await page.getByRole('heading', { name: 'My files' }).waitFor();
  return page;
}

const row = (page: Page, filename: string) => page.locator('.file-row', { hasText: filename });

describe('My files', () => {
  it('uploads a PDF with the file picker and shows it processed', async () => {
    const page = await openMyFiles();
    const pdf = await makePdf([fillerText(1, 20), `${fillerText(2, 5)} The Heron launch code is 7419.`]);
    await page
      .getByLabel('Choose files to upload')
      .setInputFiles({ name: 'heron-brief.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdf) });
    await expect
      .poll(() => row(page, 'heron-brief.pdf').textContent(), { timeout: 60_000 })
      .toContain('2 pages · ready');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'files-desktop');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download heron-brief.pdf' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('heron-brief.pdf');
    const path = await download.path();
    expect((await readFile(path)).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('says why a broken PDF could not be read, and deletes it', async () => {
    const page = await openMyFiles();
    await page.getByLabel('Choose files to upload').setInputFiles({
      name: 'broken.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.7 not really'),
    });
    await expect
      .poll(() => row(page, 'broken.pdf').textContent(), { timeout: 60_000 })
      .toContain('could not be read');
    await page.getByRole('button', { name: 'Delete broken.pdf' }).click();
    await expect.poll(() => row(page, 'broken.pdf').count()).toBe(0);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('heading', { name: 'My files' }).isVisible()).toBe(false);
  });
});

const PDF_FACT = 'The Bittern observatory opens its dome at 21:40 every clear night.';
const TEXT_FACT = 'The Curlew ferry leaves pier nine at dawn.';

describe('attaching files in chat', () => {
  it('attaches by button and by drop, and shows the cited passage under the answer', async () => {
    const page = await e2e.signedIn('chat-files');

    const pdf = await makePdf([fillerText(21, 20), `${fillerText(22, 5)} ${PDF_FACT}`]);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByRole('button', { name: 'Attach files' }).click(),
    ]);
    await chooser.setFiles({ name: 'bittern.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdf) });

    const dropped = await page.evaluateHandle(
      (text) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], 'curlew.txt', { type: 'text/plain' }));
        return transfer;
      },
      `${fillerText(23, 10)}\n\n${TEXT_FACT}`,
    );
    await page.dispatchEvent('form.composer', 'drop', { dataTransfer: dropped });

    const chips = page.getByRole('list', { name: 'Attached files' });
    await expect.poll(() => chips.textContent(), { timeout: 60_000 }).toMatch(/bittern\.pdf\s*Ready/);
    await expect.poll(() => chips.textContent(), { timeout: 60_000 }).toMatch(/curlew\.txt\s*Ready/);

    await page
      .getByRole('textbox', { name: 'Message' })
      .fill('When does the Bittern observatory open its dome?');
    await page.getByRole('button', { name: 'Send message' }).click();

    const sent = page.getByRole('list', { name: 'Files sent with this message' });
    await expect.poll(() => sent.textContent()).toContain('bittern.pdf');
    expect(await sent.textContent()).toContain('curlew.txt');
    // The composer's chips went with the message.
    expect(await chips.count()).toBe(0);

    const sources = page.locator('details.citations');
    await sources.waitFor({ timeout: 60_000 });
    expect(await sources.locator('summary').textContent()).toContain('bittern.pdf');
    await sources.locator('summary').click();
    const first = sources.locator('li').first();
    expect(await first.locator('.citation-file').textContent()).toBe('bittern.pdf');
    expect(await first.locator('blockquote').textContent()).toContain(PDF_FACT);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'chat-files-desktop');

    // Reloaded from the server, the answer keeps its citations.
    await page.reload();
    await page.locator('.citations').waitFor({ timeout: 30_000 });
    expect(await page.locator('.citations summary').textContent()).toContain('bittern.pdf');
  });
});
