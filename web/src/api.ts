/**
 * The chatstack API (OpenAI-compatible, under `<apiBaseUrl>/v1`): typed calls with the caller's token, errors
 * turned into `ApiRequestError` / `NetworkError`, and streamed completions read as server-sent events.
 */
import type { Auth } from './auth';
import {
  applyStreamData,
  type Citation,
  initialStreamState,
  type StreamState,
  type Usage,
} from './chat-stream';
import type { DataExportStatus } from './data-export';
import { ApiRequestError, apiErrorFromResponse, NetworkError } from './errors';
import { type FileInfo, MAX_INLINE_BYTES } from './files';
import type { MessageFeedback } from './sharing-api';
import { readSse } from './sse';

export type MessageRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';
export type MessageStatus = 'complete' | 'interrupted' | 'content_filter' | 'generating';

export interface ConversationSummary {
  readonly id: string;
  readonly title: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly message_count?: number;
  /** Pinned conversations come first in the list. */
  readonly pinned?: boolean;
}

export interface StoredMessage {
  readonly id: string;
  /** The message this one follows (its branch); null on the first. */
  readonly parent_id?: string | null;
  readonly role: MessageRole;
  readonly content: string;
  readonly created_at: string;
  readonly status: MessageStatus;
  readonly model?: string | null;
  readonly usage?: Usage | null;
  readonly citations?: readonly Citation[];
  readonly feedback?: MessageFeedback;
}

export interface ConversationDetail extends ConversationSummary {
  /** Every message of every branch, oldest first. */
  readonly messages: readonly StoredMessage[];
  /** Files attached to the conversation (`file_ids`). */
  readonly file_ids?: readonly string[];
  /** The leaf of the active branch. */
  readonly current_message_id?: string | null;
}

export interface ConversationPage {
  readonly data: readonly ConversationSummary[];
  readonly next_cursor: string | null;
  readonly has_more?: boolean;
}

export interface ChatTurn {
  /** Continue this conversation (the server adds the stored context); omitted for a new one. */
  readonly conversationId?: string;
  readonly content: string;
  /**
   * Answer the conversation's last question again, as a sibling of its last answer (needs `conversationId`;
   * `content` is not sent).
   */
  readonly regenerate?: boolean;
  /** Files to attach to the conversation with this message (processed ones). */
  readonly fileIds?: readonly string[];
  /** The model to answer with; omitted: the deployment's default. */
  readonly model?: string;
  /**
   * The stored message this turn follows (an edited question follows the old one's parent, `null` the root); the
   * earlier question stays as a sibling. Default: the active branch.
   */
  readonly parentMessageId?: string | null;
  readonly signal: AbortSignal;
  /** Called with the state after every chunk. */
  readonly onUpdate: (state: StreamState) => void;
  /** Called once the answer has its stored id (the stop endpoint and re-attaching name it). */
  readonly onMessageId?: (messageId: string) => void;
}

/** A served model, as `GET /v1/models` lists it. */
export interface ModelInfo {
  readonly id: string;
  readonly context_length?: number;
}

export interface ChatResult extends StreamState {
  readonly conversationId: string | null;
}

export type ApiScope = 'chat:read' | 'chat:write';

/** A personal API key as listed (`GET /v1/me/api-keys`): never the secret. */
export interface ApiKey {
  readonly id: string;
  readonly name: string;
  /** The first characters of the secret, to tell keys apart. */
  readonly prefix: string;
  readonly scopes: readonly ApiScope[];
  readonly created_at: string;
  readonly expires_at: string | null;
  readonly last_used_at: string | null;
}

/** A listed key also says what it was used for today (UTC). */
export interface ListedApiKey extends ApiKey {
  readonly usage_today: {
    readonly requests: number;
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
  };
}

/** A key just made: the only time its secret (`key`) is ever shown. */
export interface CreatedApiKey extends ApiKey {
  readonly key: string;
}

export interface NewApiKey {
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  /** Null: the key never expires. */
  readonly expiresInDays: number | null;
}

/** What the web app reports about errors (see `POST /v1/client-errors`). */
export interface ClientErrorReport {
  readonly kind: 'uncaught' | 'unhandledrejection' | 'request';
  readonly message: string;
  readonly stack?: string;
  readonly pageUrl?: string;
  readonly request?: { method: string; url: string; status?: number; requestId?: string };
  readonly userAgent?: string;
  readonly release?: string;
  readonly occurredAt?: string;
}

/** Told about every failed call that is the server's fault (5xx), for error reporting. */
export type ServerFailureListener = (failure: {
  method: string;
  path: string;
  error: ApiRequestError;
}) => void;

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly auth: Auth,
    private readonly onServerFailure: ServerFailureListener = () => undefined,
  ) {}

  /** `fetch` with the bearer token; on 401 the token is renewed once and the request retried. */
  private async send(path: string, init: RequestInit = {}, retried = false): Promise<Response> {
    const token = await this.auth.accessToken();
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    // A FormData body sets its own multipart content type (with the boundary).
    if (init.body !== undefined && !(init.body instanceof FormData) && !headers.has('content-type'))
      headers.set('content-type', 'application/json');
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/v1${path}`, { ...init, headers });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new NetworkError(error instanceof Error ? error.message : undefined);
    }
    if (response.status === 401 && !retried) {
      await this.auth.refresh();
      return this.send(path, init, true);
    }
    if (!response.ok) {
      const error = apiErrorFromResponse(response.status, response.headers, await response.text());
      if (response.status >= 500 && path !== '/client-errors') {
        this.onServerFailure({ method: init.method ?? 'GET', path: path.split('?')[0] ?? path, error });
      }
      throw error;
    }
    return response;
  }

  /** Any API path with the session and the same error handling (the admin console's client uses it). */
  request(path: string, init?: RequestInit): Promise<Response> {
    return this.send(path, init);
  }

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    const response = await this.send(path, init);
    return (await response.json()) as T;
  }

  listConversations(cursor?: string | null, limit = 20): Promise<ConversationPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    return this.json(`/conversations?${query}`);
  }

  getConversation(id: string, signal?: AbortSignal): Promise<ConversationDetail> {
    return this.json(`/conversations/${encodeURIComponent(id)}`, signal ? { signal } : {});
  }

  renameConversation(id: string, title: string): Promise<ConversationSummary> {
    return this.json(`/conversations/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: JSON.stringify({ title }),
    });
  }

  /** Makes `messageId` (a leaf) the end of the active branch: the branch the conversation shows and continues. */
  async switchBranch(id: string, messageId: string): Promise<void> {
    await this.send(`/conversations/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: JSON.stringify({ current_message_id: messageId }),
    });
  }

  async deleteConversation(id: string): Promise<void> {
    await this.send(`/conversations/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** Starts an export of all of the caller's data (a job on the server). */
  startExport(): Promise<DataExportStatus> {
    return this.json('/me/export', { method: 'POST', body: '{}' });
  }

  /** An export's status, with a download link once it is written. */
  exportStatus(id: string): Promise<DataExportStatus> {
    return this.json(`/me/export/${encodeURIComponent(id)}`);
  }

  async deleteAllData(): Promise<void> {
    await this.send('/me', { method: 'DELETE' });
  }

  async listApiKeys(): Promise<readonly ListedApiKey[]> {
    return (await this.json<{ data: ListedApiKey[] }>('/me/api-keys')).data;
  }

  createApiKey(key: NewApiKey): Promise<CreatedApiKey> {
    return this.json('/me/api-keys', {
      method: 'POST',
      body: JSON.stringify({ name: key.name, scopes: key.scopes, expires_in_days: key.expiresInDays }),
    });
  }

  async revokeApiKey(id: string): Promise<void> {
    await this.send(`/me/api-keys/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  async reportError(report: ClientErrorReport): Promise<void> {
    await this.send('/client-errors', { method: 'POST', body: JSON.stringify(report), keepalive: true });
  }

  /** The models the deployment serves (`GET /v1/models`), the default first. */
  async listModels(): Promise<readonly ModelInfo[]> {
    return (await this.json<{ data: readonly ModelInfo[] }>('/models')).data;
  }

  async listFiles(): Promise<readonly FileInfo[]> {
    return (await this.json<{ data: readonly FileInfo[] }>('/files')).data;
  }

  getFile(id: string): Promise<FileInfo> {
    return this.json(`/files/${encodeURIComponent(id)}`);
  }

  /** Uploads a file: inline as multipart when small, else announced as JSON and PUT to its presigned URL. */
  async uploadFile(file: File): Promise<FileInfo> {
    if (file.size <= MAX_INLINE_BYTES) {
      const form = new FormData();
      form.append('purpose', 'user_data');
      form.append('file', file, file.name);
      return this.json('/files', { method: 'POST', body: form });
    }
    const announced = await this.json<FileInfo>('/files', {
      method: 'POST',
      body: JSON.stringify({ filename: file.name, bytes: file.size, content_type: file.type || undefined }),
    });
    if (!announced.upload) throw new NetworkError('The server gave no upload URL.');
    let response: Response;
    try {
      response = await fetch(announced.upload.url, {
        method: announced.upload.method,
        headers: announced.upload.headers,
        body: file,
      });
    } catch (error) {
      throw new NetworkError(error instanceof Error ? error.message : undefined);
    }
    if (!response.ok) throw new NetworkError(`The upload failed (${response.status}).`);
    return announced;
  }

  async deleteFile(id: string): Promise<void> {
    await this.send(`/files/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** A short-lived download link of the file's bytes (the browser then fetches them itself, without CORS). */
  async fileDownloadUrl(id: string): Promise<string> {
    const link = await this.json<{ url: string }>(`/files/${encodeURIComponent(id)}/content`, {
      headers: { accept: 'application/json' },
    });
    return link.url;
  }

  /**
   * Sends a user message and streams the answer. Resolves with the final state when the stream ends (also when
   * `signal` aborts it: the partial answer is returned, with `finishReason` null). A mid-stream error event
   * throws `ApiRequestError` with status 0; what arrived before it was already passed to `onUpdate`.
   */
  async chat(turn: ChatTurn): Promise<ChatResult> {
    const regenerating = turn.regenerate === true && turn.conversationId !== undefined;
    const body = {
      messages: regenerating ? [] : [{ role: 'user', content: turn.content }],
      ...(regenerating ? { regenerate: true } : {}),
      stream: true,
      stream_options: { include_usage: true },
      // The answer outlives this page: a reload or another tab re-attaches, only Stop ends it early.
      resumable: true,
      ...(turn.conversationId ? { conversation_id: turn.conversationId } : {}),
      ...(turn.fileIds?.length ? { file_ids: turn.fileIds } : {}),
      ...(turn.model ? { model: turn.model } : {}),
      ...(turn.parentMessageId === undefined ? {} : { parent_message_id: turn.parentMessageId }),
    };
    const response = await this.send('/chat/completions', {
      method: 'POST',
      body: JSON.stringify(body),
      signal: turn.signal,
      headers: { accept: 'text/event-stream', 'idempotency-key': crypto.randomUUID() },
    });
    const messageId = response.headers.get('x-message-id');
    if (messageId) turn.onMessageId?.(messageId);
    return this.readAnswer(response, turn);
  }

  /** Re-attaches to a stored answer: its text from the start, followed while it is generated, to its end. */
  async reattach(
    conversationId: string,
    messageId: string,
    turn: Pick<ChatTurn, 'signal' | 'onUpdate'>,
  ): Promise<ChatResult> {
    const response = await this.send(
      `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/stream`,
      { signal: turn.signal, headers: { accept: 'text/event-stream' } },
    );
    return this.readAnswer(response, { ...turn, conversationId });
  }

  /** Stops a generating answer (from any tab); what it said so far is kept. */
  async stopAnswer(conversationId: string, messageId: string): Promise<void> {
    await this.send(
      `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/stop`,
      { method: 'POST' },
    );
  }

  private async readAnswer(
    response: Response,
    turn: Pick<ChatTurn, 'signal' | 'onUpdate' | 'conversationId'>,
  ): Promise<ChatResult> {
    let state: StreamState = {
      ...initialStreamState,
      conversationId: response.headers.get('x-conversation-id') ?? turn.conversationId ?? null,
    };
    if (!response.body) throw new NetworkError('The answer stream was empty.');
    try {
      for await (const event of readSse(response.body)) {
        state = applyStreamData(state, event.data);
        turn.onUpdate(state);
        if (state.done) break;
      }
    } catch (error) {
      if (turn.signal.aborted) return state;
      if (error instanceof ApiRequestError) throw new StreamInterruptedError(state, error);
      throw new StreamInterruptedError(
        state,
        new NetworkError('The connection dropped while the answer streamed.'),
      );
    }
    return state;
  }
}

/** A stream that broke after it started: carries what had arrived and why it stopped. */
export class StreamInterruptedError extends Error {
  constructor(
    readonly partial: StreamState,
    readonly reason: ApiRequestError | NetworkError,
  ) {
    super(reason.message);
    this.name = 'StreamInterruptedError';
  }
}
