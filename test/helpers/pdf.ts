/** Generated PDFs for tests and benchmarks: one paragraph per page, with pdf-lib (a real PDF writer). */
import { PDFArray, PDFDocument, PDFHexString, PDFName, StandardFonts } from 'pdf-lib';

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

/**
 * A PDF protected by a user password (Standard security handler, revision 2): its /U entry matches no empty
 * password, so a reader must ask for one. pdf-lib cannot encrypt content; readers check the password first.
 */
export async function makePasswordProtectedPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await makePdf(['This text is behind a password.']));
  const context = doc.context;
  const hex = (digit: string) => PDFHexString.of(digit.repeat(64));
  const encrypt = context.obj({ Filter: 'Standard', V: 1, R: 2, Length: 40, P: -4 });
  encrypt.set(PDFName.of('O'), hex('a'));
  encrypt.set(PDFName.of('U'), hex('b'));
  context.trailerInfo.Encrypt = context.register(encrypt);
  const id = PDFArray.withContext(context);
  id.push(hex('c'));
  id.push(hex('c'));
  context.trailerInfo.ID = id;
  return doc.save({ useObjectStreams: false });
}
