/**
 * API key format: `sk-spw-` + a 12-character lookup id + a 40-character secret, all base62.
 * The lookup id finds the one stored record; the whole key's SHA-256 proves possession. Only the
 * hash and the public prefix (`sk-spw-<lookup id>`) are stored; the key is shown once.
 */

export const API_KEY_PREFIX = 'sk-spw-';
export const LOOKUP_ID_LENGTH = 12;
export const SECRET_LENGTH = 40;
const BASE62 = /^[0-9A-Za-z]+$/;

export interface ParsedApiKey {
  readonly lookupId: string;
  /** `sk-spw-<lookupId>`: safe to log and display. */
  readonly prefix: string;
}

export function parseApiKey(raw: string): ParsedApiKey | undefined {
  if (raw.length !== API_KEY_PREFIX.length + LOOKUP_ID_LENGTH + SECRET_LENGTH) return undefined;
  if (!raw.startsWith(API_KEY_PREFIX)) return undefined;
  const body = raw.slice(API_KEY_PREFIX.length);
  if (!BASE62.test(body)) return undefined;
  const lookupId = body.slice(0, LOOKUP_ID_LENGTH);
  return { lookupId, prefix: `${API_KEY_PREFIX}${lookupId}` };
}

export function formatApiKey(lookupId: string, secret: string): string {
  return `${API_KEY_PREFIX}${lookupId}${secret}`;
}

/** `Authorization: Bearer <key>` → the key; anything else → undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return match?.[1];
}
