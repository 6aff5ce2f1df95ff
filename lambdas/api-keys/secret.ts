import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * The API key secret: `csk_` + 40 random base62 characters (≈238 bits) + a 6-character base62 CRC32 of them.
 * The fixed prefix and the checksum let secret scanners recognise a leaked key without false positives, and let
 * the authorizer refuse a mistyped key without a database read. Only the SHA-256 of a secret is ever stored: a
 * random 238-bit secret needs no slow hash, and the digest is the lookup key.
 */
export const API_KEY_PREFIX = 'csk_';
const RANDOM_CHARS = 40;
const CHECKSUM_CHARS = 6;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SHAPE = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`);
/** Characters of the secret shown in listings (`csk_` + 8). */
const VISIBLE_CHARS = API_KEY_PREFIX.length + 8;

function base62(value: number, width: number): string {
  let text = '';
  let rest = value;
  for (let i = 0; i < width; i += 1) {
    text = ALPHABET[rest % 62] + text;
    rest = Math.floor(rest / 62);
  }
  return text;
}

function checksum(random: string): string {
  return base62(crc32(random), CHECKSUM_CHARS);
}

/** Uniform base62 characters: bytes ≥ 248 are rejected so that `% 62` has no bias. */
function randomBase62(length: number): string {
  let text = '';
  while (text.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && text.length < length) text += ALPHABET[byte % 62];
    }
  }
  return text;
}

export function generateApiKeySecret(): string {
  const random = randomBase62(RANDOM_CHARS);
  return `${API_KEY_PREFIX}${random}${checksum(random)}`;
}

/** Whether a bearer credential looks like one of our API keys at all (as opposed to a JWT). */
export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX);
}

/** Shape and checksum, checked locally: a typo or a truncated copy fails here, before any lookup. */
export function isWellFormedApiKey(secret: string): boolean {
  if (!SHAPE.test(secret)) return false;
  const body = secret.slice(API_KEY_PREFIX.length);
  return checksum(body.slice(0, RANDOM_CHARS)) === body.slice(RANDOM_CHARS);
}

/** The stored lookup digest of a secret (hex SHA-256). */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** What listings show of a key: enough to recognise it, far too little to use it. */
export function visiblePrefix(secret: string): string {
  return secret.slice(0, VISIBLE_CHARS);
}
