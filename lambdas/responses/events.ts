import { PassThrough } from 'node:stream';
import { KEEPALIVE_MS } from '../chat/sse';
import type { ToolCallDelta } from '../contracts/api';
import type { ResponseObject, ResponseOutputItem } from '../contracts/responses';
import { functionCallItem, functionCallItemId, messageItem } from './objects';

/**
 * The typed SSE events of a streamed response, in OpenAI's order: `response.created`, `response.in_progress`,
 * then per output item `output_item.added` (+ `content_part.added`), its deltas, its `…done` events and
 * `output_item.done`, and one terminal event (`response.completed`, `.incomplete` or `.failed`)
 * carrying the whole response. Every event has a `sequence_number` from 0. The same encoder numbers a live stream
 * and a stream replayed from the store, so a re-attached client continues `starting_after` a number it saw.
 */

export type ResponseEvent = { readonly type: string; readonly sequence_number: number } & Record<
  string,
  unknown
>;

/** `event: <type>` and `data: <json>`, as OpenAI frames them. */
export function sseEvent(event: ResponseEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

const TERMINAL: Record<ResponseObject['status'], string> = {
  completed: 'response.completed',
  incomplete: 'response.incomplete',
  failed: 'response.failed',
  // The SDK's event types have no `response.cancelled`: a cancelled answer ends as a cut-off one.
  cancelled: 'response.incomplete',
  in_progress: 'response.in_progress',
  queued: 'response.queued',
};

interface OpenCall {
  readonly outputIndex: number;
  readonly id: string;
  readonly callId: string;
  name: string;
  arguments: string;
}

export class ResponseEventEncoder {
  private sequence = 0;
  private outputs = 0;
  private message: { outputIndex: number; id: string; text: string } | undefined;
  private readonly calls = new Map<number, OpenCall>();
  private ended = false;

  constructor(private readonly emit: (event: ResponseEvent) => void) {}

  private send(type: string, fields: Record<string, unknown>): void {
    this.emit({ type, sequence_number: this.sequence++, ...fields });
  }

  /** The response as it starts: `response.created` then `response.in_progress` (status `in_progress`). */
  start(response: ResponseObject): void {
    const started = { ...response, status: 'in_progress' as const, output: [], usage: null };
    this.send('response.created', { response: started });
    this.send('response.in_progress', { response: started });
  }

  text(messageId: string, delta: string): void {
    if (delta === '') return;
    if (!this.message) {
      this.message = { outputIndex: this.outputs++, id: messageId, text: '' };
      const item = { ...messageItem(messageId, '', 'in_progress'), content: [] };
      this.send('response.output_item.added', { output_index: this.message.outputIndex, item });
      this.send('response.content_part.added', {
        item_id: messageId,
        output_index: this.message.outputIndex,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      });
    }
    this.message.text += delta;
    this.send('response.output_text.delta', {
      item_id: this.message.id,
      output_index: this.message.outputIndex,
      content_index: 0,
      delta,
      logprobs: [],
    });
  }

  /** A fragment of a tool call as the pipeline streams it (the first of an index carries its id and name). */
  toolCall(delta: ToolCallDelta): void {
    let call = this.calls.get(delta.index);
    if (!call) {
      const callId = delta.id ?? `call_${delta.index}`;
      call = {
        outputIndex: this.outputs++,
        id: functionCallItemId(callId),
        callId,
        name: delta.function.name ?? '',
        arguments: '',
      };
      this.calls.set(delta.index, call);
      this.send('response.output_item.added', {
        output_index: call.outputIndex,
        item: {
          ...functionCallItem(
            { id: callId, type: 'function', function: { name: call.name, arguments: '' } },
            'in_progress',
          ),
        },
      });
    }
    const fragment = delta.function.arguments ?? '';
    if (fragment === '') return;
    call.arguments += fragment;
    this.send('response.function_call_arguments.delta', {
      item_id: call.id,
      output_index: call.outputIndex,
      delta: fragment,
    });
  }

  /** Closes the open items with their final form, then the terminal event with the whole response. */
  end(response: ResponseObject): void {
    if (this.ended) return;
    this.ended = true;
    const finalItem = (id: string): ResponseOutputItem | undefined =>
      response.output.find((item) => item.id === id);
    if (this.message) {
      const { outputIndex, id } = this.message;
      const item = finalItem(id);
      const part =
        item?.type === 'message'
          ? item.content[0]
          : { type: 'output_text', text: this.message.text, annotations: [], logprobs: [] };
      const text = part?.text ?? this.message.text;
      this.send('response.output_text.done', {
        item_id: id,
        output_index: outputIndex,
        content_index: 0,
        text,
        logprobs: [],
      });
      this.send('response.content_part.done', {
        item_id: id,
        output_index: outputIndex,
        content_index: 0,
        part,
      });
      this.send('response.output_item.done', {
        output_index: outputIndex,
        item: item ?? messageItem(id, text, 'incomplete'),
      });
    }
    // Calls the stream did not show (an answer replayed from the store has them only at its end).
    for (const item of response.output) {
      if (item.type !== 'function_call' || [...this.calls.values()].some((call) => call.id === item.id))
        continue;
      this.toolCall({
        index: -1 - this.calls.size,
        id: item.call_id,
        function: { name: item.name, arguments: item.arguments },
      });
    }
    for (const call of this.calls.values()) {
      const item = finalItem(call.id);
      const done = item?.type === 'function_call' ? item : undefined;
      this.send('response.function_call_arguments.done', {
        item_id: call.id,
        output_index: call.outputIndex,
        name: done?.name ?? call.name,
        arguments: done?.arguments ?? call.arguments,
      });
      this.send('response.output_item.done', {
        output_index: call.outputIndex,
        item:
          done ??
          functionCallItem(
            { id: call.callId, type: 'function', function: { name: call.name, arguments: call.arguments } },
            'incomplete',
          ),
      });
    }
    this.send(TERMINAL[response.status], { response });
  }

  /** An error event (the stream broke in a way no response object describes). */
  error(code: string, message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.send('error', { code, message, param: null });
  }
}

/** A live event stream: an SSE body, keep-alive comments in silences, `signal` when the client leaves. */
export class ResponseEventStream {
  readonly body = new PassThrough();
  readonly encoder: ResponseEventEncoder;
  private readonly closed = new AbortController();
  private lastWriteAt = Date.now();
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly skipThrough: number = -1,
    keepaliveMs: number = KEEPALIVE_MS,
  ) {
    this.encoder = new ResponseEventEncoder((event) => {
      if (event.sequence_number > this.skipThrough) this.write(sseEvent(event));
    });
    this.body.on('close', () => {
      if (!this.body.writableEnded) this.closed.abort();
      clearInterval(this.keepalive);
    });
    this.keepalive = setInterval(
      () => {
        if (Date.now() - this.lastWriteAt >= keepaliveMs) this.write(': keepalive\n\n');
      },
      Math.max(10, Math.floor(keepaliveMs / 3)),
    );
  }

  get signal(): AbortSignal {
    return this.closed.signal;
  }

  close(): void {
    clearInterval(this.keepalive);
    if (!this.body.destroyed && !this.body.writableEnded) this.body.end();
  }

  private write(text: string): void {
    if (this.body.destroyed || this.body.writableEnded) return;
    this.lastWriteAt = Date.now();
    this.body.write(text);
  }
}
