/** Generated PDFs for tests and benchmarks: one paragraph per page, with pdf-lib (a real PDF writer). */
import { PDFDocument, StandardFonts } from 'pdf-lib';

/** A PDF with one page per entry of `pages`; each page's text is wrapped into lines that fit the page. */
export async function makePdf(pages: readonly string[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const text of pages) {
    const page = doc.addPage([612, 792]);
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(/\s+/)) {
      const next = line === '' ? word : `${line} ${word}`;
      if (font.widthOfTextAtSize(next, 11) > 500) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    if (line !== '') lines.push(line);
    lines.slice(0, 60).forEach((text, i) => {
      page.drawText(text, { x: 56, y: 740 - i * 12, size: 11, font });
    });
  }
  return doc.save();
}

const WORDS =
  'river market stone garden window paper silver engine harbor meadow lantern copper valley orchard canvas signal marble bridge forest thunder'.split(
    ' ',
  );

/** Deterministic filler prose (no facts), `sentences` sentences long. */
export function fillerText(seed: number, sentences: number): string {
  let state = seed * 2_654_435_761;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state;
  };
  const out: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const words = Array.from({ length: 8 + (next() % 8) }, () => WORDS[next() % WORDS.length] ?? 'river');
    const sentence = words.join(' ');
    out.push(`${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`);
  }
  return out.join(' ');
}
