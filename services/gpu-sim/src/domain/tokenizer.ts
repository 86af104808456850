import { fnv1a32 } from './hash.js';

/**
 * The simulator's tokenizer: deterministic, lossless, cheap, and shared by everyone who must agree
 * on a token count (the inference adapter, the router's context budget, tests).
 *
 * Rules, applied left to right:
 * - A single space directly before a non-space character belongs to the token that follows it
 *   (like GPT-style BPE's "Ġword").
 * - A run of up to 10 ASCII letters is one token; longer words split every 10 letters.
 * - A run of up to 3 digits is one token.
 * - Any other non-space character (punctuation, symbols, non-ASCII) is one token per code point.
 * - Any other whitespace run (newlines, several spaces) is one token, minus a final space that
 *   attaches to the next word.
 * Concatenating the pieces gives back the input exactly. English prose comes out at roughly
 * 1.2–1.4 tokens per word, close to Llama 3's tokenizer.
 *
 * Token ids are a hash of the piece's text, so equal text gives equal ids everywhere without a
 * vocabulary file; ids below FIRST_TEXT_TOKEN_ID are reserved for the chat template's specials.
 */

export const MAX_LETTERS_PER_TOKEN = 10;
export const MAX_DIGITS_PER_TOKEN = 3;
export const FIRST_TEXT_TOKEN_ID = 256;
const TEXT_ID_RANGE = 0x7fffffff - FIRST_TEXT_TOKEN_ID;

const SPACE = 32;

function isWhitespace(code: number): boolean {
  return (
    code === SPACE ||
    (code >= 9 && code <= 13) ||
    code === 0xa0 ||
    code === 0x2028 ||
    code === 0x2029
  );
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Calls `onPiece(start, end)` for every token of `text`; returns the number of tokens. */
function scan(text: string, onPiece?: (start: number, end: number) => void): number {
  const n = text.length;
  let count = 0;
  let i = 0;
  while (i < n) {
    const start = i;
    let code = text.charCodeAt(i);
    if (isWhitespace(code)) {
      const attachesToNext = code === SPACE && i + 1 < n && !isWhitespace(text.charCodeAt(i + 1));
      if (attachesToNext) {
        i++;
        code = text.charCodeAt(i);
      } else {
        // A whitespace run; leave a final single space for the word after it.
        let j = i + 1;
        while (j < n && isWhitespace(text.charCodeAt(j))) j++;
        if (j < n && j - 1 > i && text.charCodeAt(j - 1) === SPACE) j--;
        i = j;
        count++;
        onPiece?.(start, i);
        continue;
      }
    }
    if (isLetter(code)) {
      const limit = i + MAX_LETTERS_PER_TOKEN;
      while (i < n && i < limit && isLetter(text.charCodeAt(i))) i++;
    } else if (isDigit(code)) {
      const limit = i + MAX_DIGITS_PER_TOKEN;
      while (i < n && i < limit && isDigit(text.charCodeAt(i))) i++;
    } else {
      // One code point (keep surrogate pairs together).
      i += code >= 0xd800 && code <= 0xdbff && i + 1 < n ? 2 : 1;
    }
    count++;
    onPiece?.(start, i);
  }
  return count;
}

/** The id of one token's text. */
export function tokenIdOf(piece: string): number {
  return FIRST_TEXT_TOKEN_ID + (fnv1a32(piece) % TEXT_ID_RANGE);
}

/** Number of tokens in `text`. */
export function countTokens(text: string): number {
  return scan(text);
}

/** The token pieces of `text`; `pieces.join('') === text`. */
export function tokenPieces(text: string): string[] {
  const pieces: string[] = [];
  scan(text, (start, end) => pieces.push(text.slice(start, end)));
  return pieces;
}

/** The token ids of `text`, appended to `into` when given. */
export function tokenize(text: string, into: number[] = []): number[] {
  scan(text, (start, end) => into.push(tokenIdOf(text.slice(start, end))));
  return into;
}
