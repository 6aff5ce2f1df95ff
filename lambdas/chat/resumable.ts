import {
  appendAnswerProgress,
  type ConversationStore,
  putMessage,
  type StoredMessage,
} from '../conversations/store';
import { logger } from '../shared/powertools';

/**
 * A resumable answer in the store while it is generated: written `generating` when its first token is in, then
 * its text so far at most once per interval (one write per step, whatever the token rate), so a reload or a
 * second tab reads it and a re-attached stream replays its pieces. Each step also reads the stop flag an explicit
 * stop sets (from any instance): that is how a stop reaches the generating process.
 */

/** How often a generating answer's text is stored (and its stop flag read). */
export const PROGRESS_INTERVAL_MS = 500;

export class AnswerProgress {
  private text = '';
  private stored = 0;
  private readonly chunks: string[] = [];
  private writes = 1;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ConversationStore,
    private readonly sub: string,
    private readonly message: StoredMessage,
    /** Called once when a stop was requested. */
    private readonly onStop: () => void,
    private readonly intervalMs: number = PROGRESS_INTERVAL_MS,
  ) {}

  /** Stores the answer as `generating` (empty) and starts the progress steps. */
  async begin(): Promise<void> {
    await putMessage(this.store, this.sub, {
      ...this.message,
      status: 'generating',
      content: '',
      chunks: [],
      progressWrites: 1,
    });
    this.timer = setInterval(() => {
      this.inFlight = this.inFlight.then(() => this.step());
    }, this.intervalMs);
  }

  push(text: string): void {
    this.text += text;
  }

  /** Stops the steps; resolves with the pieces to store with the final answer (and the writes they cost). */
  async end(finalText: string): Promise<{ readonly chunks: string[]; readonly progressWrites: number }> {
    clearInterval(this.timer);
    await this.inFlight;
    const rest = finalText.slice(this.stored);
    return {
      chunks: rest === '' ? [...this.chunks] : [...this.chunks, rest],
      progressWrites: this.writes + 1,
    };
  }

  private async step(): Promise<void> {
    const chunk = this.text.length > this.stored ? this.text.slice(this.stored) : undefined;
    try {
      const { stopRequested } = await appendAnswerProgress(
        this.store,
        this.sub,
        { ...this.message, region: this.message.region ?? this.store.region },
        { content: this.text, chunk },
      );
      this.writes++;
      if (chunk !== undefined) {
        this.chunks.push(chunk);
        this.stored += chunk.length;
      }
      if (stopRequested) {
        clearInterval(this.timer);
        this.onStop();
      }
    } catch (error) {
      // A lost step is caught up by the next one (or the final write); the answer keeps generating.
      logger.warn('storing answer progress failed', { error: error as Error });
    }
  }
}
