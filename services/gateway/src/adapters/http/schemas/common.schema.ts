import { z } from 'zod';

/** Conversation ids: safe in URLs, headers and logs (no CR/LF, no spaces, no percent). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const ID_RULE =
  'must be 1-128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-", starting with a letter or digit';

export const conversationIdSchema = z
  .string({ error: 'must be a string' })
  .regex(ID_PATTERN, { error: ID_RULE });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** False for strings with unpaired UTF-16 surrogates, which have no UTF-8 encoding. */
export function isWellFormedUnicode(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

export interface RequestLimits {
  readonly maxMessages: number;
  readonly maxMessageChars: number;
  readonly maxCompletionTokens: number;
}

const ROLES = ['system', 'developer', 'user', 'assistant'] as const;
export type WireRole = (typeof ROLES)[number];

/** A string, or OpenAI's array of `{type: "text", text}` parts, which are joined. */
const contentSchema = z
  .union([z.string(), z.array(z.unknown())], {
    error: 'must be a string or an array of {"type": "text", "text": ...} parts',
  })
  .transform((value, ctx) => {
    if (typeof value === 'string') return value;
    const texts: string[] = [];
    value.forEach((part, index) => {
      if (typeof part !== 'object' || part === null || Array.isArray(part)) {
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message: 'must be an object like {"type": "text", "text": "..."}',
        });
        return;
      }
      const { type, text, ...rest } = part as Record<string, unknown>;
      if (type !== 'text') {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'type'],
          message: `content part type ${JSON.stringify(type)} is not supported; only "text" is`,
        });
      } else if (typeof text !== 'string') {
        ctx.addIssue({ code: 'custom', path: [index, 'text'], message: 'must be a string' });
      } else if (Object.keys(rest).length > 0) {
        ctx.addIssue({
          code: 'unrecognized_keys',
          path: [index],
          keys: Object.keys(rest),
          message: 'unknown keys',
        });
      } else {
        texts.push(text);
      }
    });
    return texts.join('');
  });

export function messageSchema(limits: RequestLimits, allowedRoles: readonly WireRole[] = ROLES) {
  return z
    .strictObject({
      role: z.string({ error: 'must be a string' }).superRefine((role, ctx) => {
        if ((allowedRoles as readonly string[]).includes(role)) return;
        ctx.addIssue({
          code: 'custom',
          message:
            role === 'tool' || role === 'function'
              ? `role '${role}' is not supported: this API does not support tool calls`
              : `must be one of ${allowedRoles.join(', ')}; got ${JSON.stringify(role)}`,
        });
      }),
      content: contentSchema,
      name: z
        .string({ error: 'must be a string' })
        .regex(/^[A-Za-z0-9_-]{1,64}$/, {
          error: 'must be 1-64 characters of A-Z, a-z, 0-9, "_" and "-"',
        })
        .optional(),
    })
    .superRefine((message, ctx) => {
      if (message.role !== 'assistant' && message.content.trim() === '') {
        ctx.addIssue({
          code: 'custom',
          path: ['content'],
          message: `must not be empty in a ${message.role} message`,
        });
      }
      if (message.content.length > limits.maxMessageChars) {
        ctx.addIssue({
          code: 'custom',
          path: ['content'],
          message: `is ${message.content.length} characters long; the limit is ${limits.maxMessageChars}`,
        });
      }
      if (!isWellFormedUnicode(message.content)) {
        ctx.addIssue({
          code: 'custom',
          path: ['content'],
          message: 'contains an unpaired UTF-16 surrogate (invalid Unicode)',
        });
      }
    })
    .transform((message) => ({
      // OpenAI's newer name for the system role.
      role: (message.role === 'developer' ? 'system' : message.role) as
        'system' | 'user' | 'assistant',
      content: message.content,
      ...(message.name !== undefined ? { name: message.name } : {}),
    }));
}

/** Sampling parameters shared by chat completions and conversation turns. */
export function samplingShape(limits: RequestLimits) {
  const maxTokens = z
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be at least 1' })
    .max(limits.maxCompletionTokens, { error: `must be at most ${limits.maxCompletionTokens}` })
    .nullish();
  return {
    temperature: z
      .number({ error: 'must be a number' })
      .min(0, { error: 'must be between 0 and 2' })
      .max(2, { error: 'must be between 0 and 2' })
      .nullish(),
    top_p: z
      .number({ error: 'must be a number' })
      .gt(0, { error: 'must be greater than 0 and at most 1' })
      .max(1, { error: 'must be greater than 0 and at most 1' })
      .nullish(),
    max_tokens: maxTokens,
    max_completion_tokens: maxTokens,
    stop: z
      .union(
        [
          z
            .string()
            .min(1, { error: 'must not be empty' })
            .max(256, { error: 'must be at most 256 characters' }),
          z
            .array(
              z
                .string({ error: 'must be a string' })
                .min(1, { error: 'must not be empty' })
                .max(256, { error: 'must be at most 256 characters' }),
            )
            .max(4, { error: 'may hold at most 4 sequences' }),
        ],
        { error: 'must be a string or an array of up to 4 strings' },
      )
      .nullish(),
    seed: z
      .int({ error: 'must be an integer' })
      .min(0, { error: 'must be a non-negative integer' })
      .nullish(),
    presence_penalty: z
      .number({ error: 'must be a number' })
      .min(-2, { error: 'must be between -2 and 2' })
      .max(2, { error: 'must be between -2 and 2' })
      .nullish(),
    frequency_penalty: z
      .number({ error: 'must be a number' })
      .min(-2, { error: 'must be between -2 and 2' })
      .max(2, { error: 'must be between -2 and 2' })
      .nullish(),
    stream: z.boolean({ error: 'must be a boolean' }).nullish(),
    stream_options: z
      .strictObject({ include_usage: z.boolean({ error: 'must be a boolean' }).nullish() })
      .nullish(),
    user: z
      .string({ error: 'must be a string' })
      .max(256, { error: 'must be at most 256 characters' })
      .nullish(),
  };
}

export interface WireSampling {
  readonly temperature?: number | null | undefined;
  readonly top_p?: number | null | undefined;
  readonly max_tokens?: number | null | undefined;
  readonly max_completion_tokens?: number | null | undefined;
  readonly stop?: string | string[] | null | undefined;
  readonly seed?: number | null | undefined;
  readonly presence_penalty?: number | null | undefined;
  readonly frequency_penalty?: number | null | undefined;
  readonly stream?: boolean | null | undefined;
  readonly stream_options?:
    { readonly include_usage?: boolean | null | undefined } | null | undefined;
}

/** OpenAI refuses stream_options without stream; so do we, naming the field. */
export function checkStreamOptions(body: WireSampling, ctx: z.RefinementCtx): void {
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    ctx.addIssue({
      code: 'custom',
      path: ['stream_options'],
      message: 'is only allowed when stream is true',
    });
  }
}
