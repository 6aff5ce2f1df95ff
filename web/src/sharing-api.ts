/**
 * Feedback on answers and share links (lambdas/contracts/feedback.ts, sharing.ts), through the app's ApiClient;
 * a shared page is read without any session.
 */
import type { ApiClient } from './api';
import { apiErrorFromResponse, NetworkError } from './errors';

export type Rating = 'up' | 'down';

export interface MessageFeedback {
  readonly rating: Rating;
  readonly comment: string | null;
  readonly updated_at: string;
}

export interface Share {
  readonly id: string;
  readonly url: string;
  readonly message_count: number;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface SharedConversation {
  readonly title: string;
  readonly shared_at: string;
  readonly messages: readonly {
    readonly role: 'user' | 'assistant';
    readonly content: string;
    readonly model: string | null;
  }[];
}

const id = (value: string) => encodeURIComponent(value);

/** Sets, changes (`comment` undefined keeps the earlier one) or clears (`rating` null) an answer's rating. */
export async function rateAnswer(
  api: ApiClient,
  conversationId: string,
  messageId: string,
  rating: Rating | null,
  comment?: string,
): Promise<MessageFeedback | null> {
  const response = await api.request(
    `/conversations/${id(conversationId)}/messages/${id(messageId)}/feedback`,
    {
      method: 'POST',
      body: JSON.stringify({ rating, ...(comment === undefined ? {} : { comment }) }),
    },
  );
  return ((await response.json()) as { feedback: MessageFeedback | null }).feedback;
}

/** Shares the conversation as it is now (again: same link, new snapshot). */
export async function shareConversation(api: ApiClient, conversationId: string): Promise<Share> {
  return (await (
    await api.request(`/conversations/${id(conversationId)}/share`, { method: 'POST' })
  ).json()) as Share;
}

export async function revokeShare(api: ApiClient, conversationId: string): Promise<void> {
  await api.request(`/conversations/${id(conversationId)}/share`, { method: 'DELETE' });
}

/** A shared conversation, read without a token (the page works signed out). */
export async function fetchShared(apiBaseUrl: string, shareId: string): Promise<SharedConversation> {
  let response: Response;
  try {
    response = await fetch(`${apiBaseUrl}/v1/shared/${id(shareId)}`);
  } catch (error) {
    throw new NetworkError(error instanceof Error ? error.message : undefined);
  }
  if (!response.ok) throw apiErrorFromResponse(response.status, response.headers, await response.text());
  return (await response.json()) as SharedConversation;
}

/** `/s/<share id>`: the public page of a share link. */
const SHARED_PATH = /^\/s\/(shr_[A-Za-z0-9_-]{22})\/?$/;

export function shareIdFromPath(pathname: string): string | undefined {
  return SHARED_PATH.exec(pathname)?.[1];
}
