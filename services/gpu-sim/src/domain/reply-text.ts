import {
  applyChatTemplate,
  chatPromptTokens,
  continuesFinalMessage,
  type ChatTurn,
} from './chat-template.js';
import { fmix32, mix2 } from './hash.js';
import { tokenIdOf } from './tokenizer.js';

/**
 * Deterministic reply text. A reply is a pure function of (seed, prompt token ids): token i is
 * computable on its own, so a test can check a stream token by token and the router can recompute
 * what a shard would have said.
 *
 * THE CONTINUATION RULE (for mid-stream failover). Let `context` be a conversation that does not
 * end with an assistant message and R = the deterministic reply to `context` (tokens r0 r1 … rL-1).
 * A request whose messages are `context` followed by an assistant message whose content is the
 * text of r0…rk-1 (any k ≤ L, i.e. the text a client has already received, cut at a token
 * boundary) is answered with rk…rL-1 only. So a router that resends the context plus the partial
 * assistant text gets exactly the rest, and partial + continuation === the full reply. The same
 * max_tokens/stop rules apply to the continuation (max_tokens counts new tokens only). If the
 * assistant text is not such a prefix, the trailing message is treated as the start of a new reply
 * and the answer is the deterministic reply to the whole conversation (still reproducible, but not
 * a continuation).
 *
 * Reply length: `max_tokens` when given (finish_reason "length"), otherwise the reply's natural
 * length, 16–256 tokens derived from the seed and prompt (finish_reason "stop").
 */

const VOCABULARY = [
  'the',
  'of',
  'and',
  'to',
  'in',
  'is',
  'that',
  'for',
  'it',
  'as',
  'with',
  'was',
  'on',
  'be',
  'at',
  'by',
  'this',
  'had',
  'not',
  'are',
  'but',
  'from',
  'or',
  'have',
  'an',
  'they',
  'which',
  'one',
  'you',
  'were',
  'all',
  'we',
  'when',
  'your',
  'can',
  'said',
  'there',
  'use',
  'each',
  'she',
  'do',
  'how',
  'their',
  'if',
  'will',
  'up',
  'other',
  'about',
  'out',
  'many',
  'then',
  'them',
  'these',
  'so',
  'some',
  'her',
  'would',
  'make',
  'like',
  'him',
  'into',
  'time',
  'has',
  'look',
  'two',
  'more',
  'write',
  'go',
  'see',
  'number',
  'no',
  'way',
  'could',
  'people',
  'my',
  'than',
  'first',
  'water',
  'been',
  'call',
  'who',
  'oil',
  'its',
  'now',
  'find',
  'long',
  'down',
  'day',
  'did',
  'get',
  'come',
  'made',
  'may',
  'part',
  'order',
  'account',
  'refund',
  'shipping',
  'delivery',
  'support',
  'ticket',
  'customer',
  'service',
  'request',
  'help',
  'please',
  'thanks',
  'update',
  'status',
  'payment',
  'invoice',
  'package',
  'address',
  'email',
  'password',
  'reset',
  'login',
  'return',
  'exchange',
  'product',
  'warranty',
  'policy',
  'billing',
  'charge',
  'plan',
  'upgrade',
  'cancel',
  'subscribe',
  'question',
  'answer',
  'issue',
  'problem',
  'solution',
  'step',
  'check',
  'confirm',
  'verify',
  'available',
  'today',
  'soon',
  'hours',
  'days',
  'week',
  'team',
  'agent',
  'chat',
  'message',
  'details',
  'amount',
  'code',
  'link',
  'page',
  'settings',
  'option',
  'choose',
  'select',
  'click',
  'open',
  'close',
  'again',
  'happy',
  'sorry',
  'glad',
  'sure',
  'right',
  'new',
  'old',
  'good',
  'great',
  'quick',
  'simple',
  'easy',
  'free',
  'full',
  'small',
  'large',
  'next',
  'last',
  'early',
  'late',
  'still',
  'also',
  'just',
  'only',
  'very',
  'well',
  'here',
  'where',
  'what',
  'why',
  'should',
  'must',
  'might',
  'shall',
  'need',
  'want',
  'know',
  'think',
  'take',
  'give',
  'keep',
  'let',
  'send',
  'receive',
  'track',
  'arrive',
  'process',
  'review',
  'approve',
  'record',
  'note',
  'store',
  'online',
] as const;

const LENGTH_SALT = 0x0fffffff;
const WORD_SALT = 0x2545f491;
const PUNCT_SALT = 0x5851f42d;
export const MIN_NATURAL_REPLY_TOKENS = 16;
export const MAX_NATURAL_REPLY_TOKENS = 256;

/** The reply to one prompt: token i's text is `token(i)`, `naturalLength` tokens in all. */
export interface ReplyStream {
  readonly seedBase: number;
  readonly naturalLength: number;
}

function seedWords(seed: number): [number, number] {
  const low = seed >>> 0;
  const high = Math.floor(seed / 0x100000000) >>> 0;
  return [low, high];
}

export function replyStreamFor(seed: number, promptTokenIds: ArrayLike<number>): ReplyStream {
  const [low, high] = seedWords(seed);
  let h = mix2(fmix32(low), high ^ promptTokenIds.length);
  for (let i = 0; i < promptTokenIds.length; i++) h = mix2(h, promptTokenIds[i] ?? 0);
  const naturalLength =
    MIN_NATURAL_REPLY_TOKENS +
    (mix2(h, LENGTH_SALT) % (MAX_NATURAL_REPLY_TOKENS - MIN_NATURAL_REPLY_TOKENS + 1));
  return { seedBase: h, naturalLength };
}

function wantsPunctuation(stream: ReplyStream, i: number): boolean {
  return i > 0 && mix2(stream.seedBase ^ PUNCT_SALT, i) % 11 === 0;
}

/** Text of token i of the reply (0-based). Tokens past the natural end are still defined. */
export function replyToken(stream: ReplyStream, i: number): string {
  if (i === stream.naturalLength - 1) return '.';
  if (wantsPunctuation(stream, i) && !wantsPunctuation(stream, i - 1)) {
    return (mix2(stream.seedBase, i) >>> 8) % 3 === 0 ? '.' : ',';
  }
  const word = VOCABULARY[mix2(stream.seedBase ^ WORD_SALT, i) % VOCABULARY.length] ?? 'the';
  return i === 0 ? word : ` ${word}`;
}

/** Concatenated text of tokens [from, to). */
export function replyText(stream: ReplyStream, from = 0, to = stream.naturalLength): string {
  let text = '';
  for (let i = from; i < to; i++) text += replyToken(stream, i);
  return text;
}

export type FinishReason = 'stop' | 'length';

export interface ReplyLimits {
  /** Maximum number of new tokens; undefined means up to the natural end. */
  readonly maxTokens?: number | undefined;
  /** Stop strings: output ends before the first occurrence in the new text. */
  readonly stop?: readonly string[] | undefined;
  /**
   * vLLM's `ignore_eos`: keep generating past the natural end, up to maxTokens (tokens there are
   * still a pure function of seed, prompt and index). Benchmarks use it for fixed output lengths.
   */
  readonly ignoreEos?: boolean | undefined;
}

/** What a request will emit, decided before it runs (the text is deterministic). */
export interface PlannedReply {
  /** The prompt the engine computes (KV blocks, prefix cache). */
  readonly promptTokenIds: number[];
  /** Emitted token texts in order; their concatenation is `text`. */
  readonly tokens: string[];
  /** Token ids the engine generates (for prefix-caching generated blocks); same length as tokens. */
  readonly tokenIds: number[];
  readonly text: string;
  readonly finishReason: FinishReason;
  /** Reply tokens the trailing assistant message already held (0 when not a continuation). */
  readonly continuedFrom: number;
}

function emit(
  stream: ReplyStream,
  from: number,
  limits: ReplyLimits,
): Omit<PlannedReply, 'promptTokenIds' | 'continuedFrom'> {
  const natural = Math.max(0, stream.naturalLength - from);
  const available =
    limits.ignoreEos === true && limits.maxTokens !== undefined ? limits.maxTokens : natural;
  const cap = limits.maxTokens === undefined ? available : Math.min(available, limits.maxTokens);
  const stops = (limits.stop ?? []).filter((s) => s.length > 0);
  const longestStop = stops.reduce((max, s) => Math.max(max, s.length), 0);
  const tokens: string[] = [];
  const tokenIds: number[] = [];
  let text = '';
  for (let i = from; i < from + cap; i++) {
    const piece = replyToken(stream, i);
    const before = text.length;
    text += piece;
    tokens.push(piece);
    tokenIds.push(tokenIdOf(piece));
    if (longestStop > 0) {
      const searchFrom = Math.max(0, before - longestStop + 1);
      let cut = -1;
      for (const s of stops) {
        const at = text.indexOf(s, searchFrom);
        if (at >= 0 && (cut < 0 || at < cut)) cut = at;
      }
      if (cut >= 0) {
        // Drop the stop string (and anything after it) from the emitted text.
        let kept = 0;
        for (let t = 0; t < tokens.length; t++) {
          const token = tokens[t] ?? '';
          const room = cut - kept;
          if (room <= 0) tokens[t] = '';
          else if (token.length > room) tokens[t] = token.slice(0, room);
          kept += token.length;
        }
        return { tokens, tokenIds, text: text.slice(0, cut), finishReason: 'stop' };
      }
    }
  }
  const finishReason: FinishReason = cap < natural || limits.ignoreEos === true ? 'length' : 'stop';
  return { tokens, tokenIds, text, finishReason };
}

/** How many reply tokens `partial` covers, or undefined when it is not a token-aligned prefix. */
export function continuationOffset(stream: ReplyStream, partial: string): number | undefined {
  let text = '';
  let k = 0;
  while (text.length < partial.length && k < stream.naturalLength) {
    text += replyToken(stream, k);
    k++;
    if (!partial.startsWith(text)) return undefined;
  }
  return text === partial ? k : undefined;
}

export interface ChatReplyRequest extends ReplyLimits {
  readonly seed: number;
  readonly messages: readonly ChatTurn[];
}

/** The reply gpu-sim gives to a chat completion request (see the continuation rule above). */
export function planChatReply(request: ChatReplyRequest): PlannedReply {
  const promptTokenIds = chatPromptTokens(request.messages);
  if (continuesFinalMessage(request.messages)) {
    const context = request.messages.slice(0, -1);
    const partial = request.messages[request.messages.length - 1]?.content ?? '';
    const stream = replyStreamFor(
      request.seed,
      applyChatTemplate(context, { addGenerationPrompt: true }),
    );
    const offset = continuationOffset(stream, partial);
    if (offset !== undefined) {
      return { promptTokenIds, continuedFrom: offset, ...emit(stream, offset, request) };
    }
  }
  const stream = replyStreamFor(request.seed, promptTokenIds);
  return { promptTokenIds, continuedFrom: 0, ...emit(stream, 0, request) };
}

export interface CompletionReplyRequest extends ReplyLimits {
  readonly seed: number;
  readonly promptTokenIds: number[];
}

/** The reply gpu-sim gives to a (legacy) completion request. */
export function planCompletionReply(request: CompletionReplyRequest): PlannedReply {
  const stream = replyStreamFor(request.seed, request.promptTokenIds);
  return { promptTokenIds: request.promptTokenIds, continuedFrom: 0, ...emit(stream, 0, request) };
}
