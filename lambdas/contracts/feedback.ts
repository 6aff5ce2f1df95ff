import * as z from 'zod';

/**
 * Thumbs up/down on an answer, described once: the request, what `GET /v1/conversations/{id}` shows on the rated
 * message, and the admin API's feedback list with its rates.
 */
export const FEEDBACK_LIMITS = {
  maxCommentChars: 2000,
  /** Characters of the rated answer kept with the feedback for the admin list. */
  answerExcerptChars: 1000,
  /** Longest window of the admin feedback report, in days. */
  maxReportDays: 90,
} as const;

export const FeedbackRating = z.enum(['up', 'down']).meta({ id: 'FeedbackRating' });
export type FeedbackRating = z.infer<typeof FeedbackRating>;

export const FeedbackRequest = z
  .object({
    rating: FeedbackRating.nullable().meta({ description: '`null` clears the message’s feedback.' }),
    comment: z
      .string()
      .normalize('NFC')
      .trim()
      .max(FEEDBACK_LIMITS.maxCommentChars)
      .optional()
      .meta({ description: 'Why; replaces an earlier comment (an empty string removes it).' }),
  })
  .strict()
  .refine((body) => body.rating !== null || body.comment === undefined, {
    message: 'A comment needs a rating: send rating "up" or "down", or null without a comment to clear.',
    path: ['comment'],
  })
  .meta({ id: 'FeedbackRequest' });
export type FeedbackRequest = z.infer<typeof FeedbackRequest>;

/** The caller's feedback on one answer, as the conversation shows it. */
export const MessageFeedback = z
  .object({ rating: FeedbackRating, comment: z.string().nullable(), updated_at: z.string() })
  .meta({ id: 'MessageFeedback' });
export type MessageFeedback = z.infer<typeof MessageFeedback>;

export const FeedbackResult = z
  .object({
    object: z.literal('conversation.message.feedback'),
    conversation_id: z.string(),
    message_id: z.string(),
    feedback: MessageFeedback.nullable().meta({ description: 'null after clearing.' }),
  })
  .meta({ id: 'FeedbackResult' });
export type FeedbackResult = z.infer<typeof FeedbackResult>;

/** Query of `GET /v1/admin/feedback`: a window of days back from today, newest first, paged. */
export const AdminFeedbackQuery = z
  .object({
    days: z
      .string()
      .regex(/^\d{1,3}$/, 'Expected a whole number.')
      .transform(Number)
      .pipe(z.number().int().min(1).max(FEEDBACK_LIMITS.maxReportDays))
      .default(30),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'Expected a whole number.')
      .transform(Number)
      .pipe(z.number().int().min(1).max(100))
      .default(25),
    rating: FeedbackRating.optional(),
    cursor: z
      .string()
      .max(1024)
      .regex(/^[A-Za-z0-9_-]+$/, 'Expected a cursor returned by a previous page.')
      .optional(),
  })
  .strict()
  .meta({ id: 'AdminFeedbackQuery' });
export type AdminFeedbackQuery = z.infer<typeof AdminFeedbackQuery>;

export const AdminFeedbackItem = z
  .object({
    user_id: z.string(),
    conversation_id: z.string(),
    message_id: z.string(),
    rating: FeedbackRating,
    comment: z.string().nullable(),
    model: z.string().nullable(),
    message: z.string().meta({ description: 'The rated answer (its first 1,000 characters).' }),
    rated_at: z.string(),
  })
  .meta({ id: 'AdminFeedbackItem' });
export type AdminFeedbackItem = z.infer<typeof AdminFeedbackItem>;

const FeedbackCounts = {
  up: z.number().int().min(0),
  down: z.number().int().min(0),
  up_rate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .meta({ description: 'up ÷ (up + down); null without ratings.' }),
};

export const AdminFeedbackReport = z
  .object({
    object: z.literal('list'),
    data: z.array(AdminFeedbackItem),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
    /** Counts over the whole window (every rating, whatever the `rating` filter). */
    rates: z.object({
      ...FeedbackCounts,
      days: z.array(z.object({ date: z.string(), ...FeedbackCounts })),
      models: z.array(z.object({ model: z.string(), ...FeedbackCounts })),
    }),
  })
  .meta({ id: 'AdminFeedbackReport' });
export type AdminFeedbackReport = z.infer<typeof AdminFeedbackReport>;
