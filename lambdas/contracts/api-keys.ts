import * as z from 'zod';
import { API_SCOPES, type Scope } from './routes';

/**
 * Personal API keys, described once: the api-keys handler parses with these, and docs/openapi.json and the API
 * Gateway request model are generated from them.
 */
export const API_KEY_LIMITS = {
  /** Live (not revoked, not expired) keys one user may hold. */
  maxLiveKeysPerUser: 20,
  maxNameChars: 64,
  maxExpiresInDays: 365,
  /** `last_used_at` is written at most this often per key. */
  lastUsedResolutionSeconds: 60,
} as const;

/** Key ids: `key_` + 24 lowercase hex digits (public; the secret is never derived from it). */
export const API_KEY_ID_PATTERN = /^key_[0-9a-f]{24}$/;
export const ApiKeyId = z
  .string()
  .regex(API_KEY_ID_PATTERN, 'Expected an API key id such as key_0123456789abcdef01234567.')
  .meta({ id: 'ApiKeyId', example: 'key_0123456789abcdef01234567' });

const ScopeSchema = z.enum(API_SCOPES as [Scope, ...Scope[]]);

export const ApiKeyCreateRequest = z
  .object({
    name: z.string().trim().min(1).max(API_KEY_LIMITS.maxNameChars).meta({ example: 'laptop scripts' }),
    /** A subset of the caller's own scopes. @default all of them */
    scopes: z
      .array(ScopeSchema)
      .min(1)
      .max(API_SCOPES.length)
      .optional()
      .meta({ description: 'A subset of your own scopes; defaults to all of them.' }),
    expires_in_days: z
      .number()
      .int()
      .min(1)
      .max(API_KEY_LIMITS.maxExpiresInDays)
      .nullable()
      .optional()
      .meta({ description: 'Days until the key stops working; omitted or null means it never expires.' }),
  })
  .strict()
  .meta({ id: 'ApiKeyCreateRequest' });
export type ApiKeyCreateRequest = z.infer<typeof ApiKeyCreateRequest>;

export const ApiKey = z
  .object({
    id: ApiKeyId,
    object: z.literal('api_key'),
    name: z.string(),
    /** The start of the secret, so a person can tell their keys apart. */
    prefix: z.string().meta({ example: 'csk_7Hq2XbLp' }),
    scopes: z.array(ScopeSchema),
    created_at: z.iso.datetime(),
    expires_at: z.iso.datetime().nullable(),
    last_used_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof ApiKey>;

const count = z.number().int().min(0);
/** A listed key, with what it was used for today (UTC); its owner's quotas count the same usage. */
export const ListedApiKey = ApiKey.extend({
  usage_today: z
    .object({ requests: count, prompt_tokens: count, completion_tokens: count })
    .meta({ description: 'Chat turns made with this key today (UTC) and their tokens.' }),
}).meta({ id: 'ListedApiKey' });
export type ListedApiKey = z.infer<typeof ListedApiKey>;

export const CreatedApiKey = ApiKey.extend({
  key: z.string().meta({
    description: 'The secret. Shown only in this response: store it now.',
    example: 'csk_7Hq2XbLp0123456789abcdefghijklmnopqrstuvwxyzA1b2C3',
  }),
}).meta({ id: 'CreatedApiKey' });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ApiKeyList = z
  .object({ object: z.literal('list'), data: z.array(ListedApiKey) })
  .meta({ id: 'ApiKeyList' });
export type ApiKeyList = z.infer<typeof ApiKeyList>;
