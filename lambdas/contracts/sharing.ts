import * as z from 'zod';

/**
 * Read-only share links, described once. A share is a snapshot of a conversation's active branch when it was
 * made; its id is 128 random bits (base64url), so links cannot be guessed or enumerated.
 */
export const SHARE_ID_PATTERN = /^shr_[A-Za-z0-9_-]{22}$/;

export const ShareId = z
  .string()
  .regex(SHARE_ID_PATTERN, 'Expected a share id such as shr_AbCdEfGhIjKlMnOpQrStUv.')
  .meta({ id: 'ShareId', example: 'shr_AbCdEfGhIjKlMnOpQrStUv' });

/** The owner's view of a conversation's share link. */
export const Share = z
  .object({
    id: ShareId,
    object: z.literal('conversation.share'),
    conversation_id: z.string(),
    url: z.string().meta({ description: 'The public page of the snapshot: `<web app>/s/<id>`.' }),
    message_count: z.number().int().min(0).meta({ description: 'Messages in the snapshot.' }),
    created_at: z.string(),
    updated_at: z
      .string()
      .meta({ description: 'When the snapshot was last taken (sharing again retakes it).' }),
  })
  .meta({ id: 'Share' });
export type Share = z.infer<typeof Share>;

export const ShareDeleted = z
  .object({ id: z.string(), object: z.literal('conversation.share.deleted'), deleted: z.literal(true) })
  .meta({ id: 'ShareDeleted' });

/** What anyone with the link sees: text only, no ids of messages or people. */
export const SharedMessage = z
  .object({
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    model: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'SharedMessage' });
export type SharedMessage = z.infer<typeof SharedMessage>;

export const SharedConversation = z
  .object({
    id: ShareId,
    object: z.literal('shared_conversation'),
    title: z.string(),
    shared_at: z.string(),
    messages: z.array(SharedMessage),
  })
  .meta({ id: 'SharedConversation' });
export type SharedConversation = z.infer<typeof SharedConversation>;
