import { estimateTokens } from '../context/window';
import type { Segment } from './extract';

/**
 * Token-aware chunking: text is cut at paragraph, then sentence, then word boundaries into chunks of about
 * `targetTokens` (the context module's estimate), each starting with the last ~`overlapTokens` of the previous
 * chunk so a fact spanning a boundary is whole in one of them. Chunks never span pages.
 */
export interface ChunkOptions {
  readonly targetTokens: number;
  readonly overlapTokens: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = { targetTokens: 256, overlapTokens: 40 };

export interface Chunk {
  readonly text: string;
  readonly tokens: number;
  readonly page?: number;
}

interface Piece {
  readonly text: string;
  readonly tokens: number;
  readonly page?: number;
}

function* pieces(segments: readonly Segment[], maxTokens: number): Generator<Piece> {
  for (const segment of segments) {
    for (const paragraph of segment.text.split(/\n\s*\n/)) {
      for (const sentence of paragraph.split(/(?<=[.!?])\s+/)) {
        const text = sentence.replace(/\s+/g, ' ').trim();
        if (text === '') continue;
        const tokens = estimateTokens(text);
        if (tokens <= maxTokens) {
          yield { text, tokens, ...(segment.page === undefined ? {} : { page: segment.page }) };
          continue;
        }
        // A "sentence" longer than a chunk (a table row, minified text): cut it by words.
        let words: string[] = [];
        for (const word of text.split(' ')) {
          words.push(word);
          if (estimateTokens(words.join(' ')) >= maxTokens) {
            const part = words.join(' ');
            yield {
              text: part,
              tokens: estimateTokens(part),
              ...(segment.page === undefined ? {} : { page: segment.page }),
            };
            words = [];
          }
        }
        if (words.length > 0) {
          const part = words.join(' ');
          yield {
            text: part,
            tokens: estimateTokens(part),
            ...(segment.page === undefined ? {} : { page: segment.page }),
          };
        }
      }
    }
  }
}

export function chunkSegments(
  segments: readonly Segment[],
  options: ChunkOptions = DEFAULT_CHUNKING,
): Chunk[] {
  const chunks: Chunk[] = [];
  /** The chunk being filled: carried overlap first, then fresh pieces. */
  let current: Piece[] = [];
  let currentTokens = 0;
  let fresh = 0;
  const emit = () => {
    const text = current.map((piece) => piece.text).join(' ');
    const page = current[current.length - fresh]?.page;
    chunks.push({ text, tokens: estimateTokens(text), ...(page === undefined ? {} : { page }) });
    const carried: Piece[] = [];
    let carriedTokens = 0;
    for (let i = current.length - 1; i > 0; i--) {
      const piece = current[i];
      if (piece === undefined || carriedTokens + piece.tokens > options.overlapTokens) break;
      carried.unshift(piece);
      carriedTokens += piece.tokens;
    }
    current = carried;
    currentTokens = carriedTokens;
    fresh = 0;
  };
  for (const piece of pieces(segments, options.targetTokens)) {
    if (piece.page !== current[current.length - 1]?.page) {
      // A passage never spans pages, so a citation names one page.
      if (fresh > 0) emit();
      current = [];
      currentTokens = 0;
    } else if (currentTokens + piece.tokens > options.targetTokens) {
      if (fresh > 0) emit();
      // The overlap and this piece do not fit together: the piece starts the chunk alone.
      if (currentTokens + piece.tokens > options.targetTokens) {
        current = [];
        currentTokens = 0;
      }
    }
    current.push(piece);
    currentTokens += piece.tokens;
    fresh += 1;
  }
  if (fresh > 0) emit();
  return chunks;
}
