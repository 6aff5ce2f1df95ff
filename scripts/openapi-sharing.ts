/** Feedback and share-link operations for docs/openapi.json (scripts/openapi.ts). */
import * as z from 'zod';
import type { ZodOpenApiOperationObject } from 'zod-openapi';
import { ConversationId, ErrorResponse, MessageId } from '../lambdas/contracts/api';
import { FeedbackRequest, FeedbackResult } from '../lambdas/contracts/feedback';
import { Share, ShareDeleted, SharedConversation, ShareId } from '../lambdas/contracts/sharing';

const jsonContent = (schema: z.ZodType) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: jsonContent(ErrorResponse) });
const ownerErrors = {
  '401': error('Missing, invalid, expired or revoked access token or API key.'),
  '403': error('The token or key lacks the required scope.'),
  '404': error('Not found (also for other users’ conversations and messages).'),
  '429': error('Rate limit exceeded; see `retry-after`.'),
};
const conversationParam = { path: z.object({ id: ConversationId }) };

export const SHARING_OPERATIONS: Record<string, ZodOpenApiOperationObject> = {
  'POST /v1/conversations/{id}/messages/{message_id}/feedback': {
    operationId: 'rateAnswer',
    summary:
      'Rate an answer (an assistant message of the caller’s conversation) up or down, with an optional comment; again to change it, `rating: null` to clear it. Shown as `feedback` on the message.',
    requestParams: { path: z.object({ id: ConversationId, message_id: MessageId }) },
    requestBody: { required: true, content: jsonContent(FeedbackRequest) },
    responses: {
      '200': { description: 'The feedback now.', content: jsonContent(FeedbackResult) },
      '400': error('Invalid body (the `param` names the field), or the answer is still generating.'),
      ...ownerErrors,
    },
  },
  'POST /v1/conversations/{id}/share': {
    operationId: 'shareConversation',
    summary:
      'Share a read-only snapshot of the conversation’s active branch as it is now. A conversation has one link: sharing again keeps its id and URL and retakes the snapshot.',
    requestParams: conversationParam,
    responses: { '200': { description: 'The share link.', content: jsonContent(Share) }, ...ownerErrors },
  },
  'DELETE /v1/conversations/{id}/share': {
    operationId: 'revokeShare',
    summary: 'Revoke the conversation’s share link: it answers 404 from then on.',
    requestParams: conversationParam,
    responses: { '200': { description: 'Revoked.', content: jsonContent(ShareDeleted) }, ...ownerErrors },
  },
  'GET /v1/shared/{share_id}': {
    operationId: 'getSharedConversation',
    summary:
      'A shared snapshot, without a token: the title and the questions and answers, no user or message ids. Limited per client address; answered with `X-Robots-Tag: noindex`.',
    requestParams: { path: z.object({ share_id: ShareId }) },
    responses: {
      '200': { description: 'The snapshot.', content: jsonContent(SharedConversation) },
      '404': error('No such share, or it was revoked.'),
      '429': error('Too many requests from this address; see `retry-after`.'),
    },
  },
};
