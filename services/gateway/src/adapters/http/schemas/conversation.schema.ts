import { z } from 'zod';
import {
  checkStreamOptions,
  conversationIdSchema,
  isWellFormedUnicode,
  messageSchema,
  type RequestLimits,
  samplingShape,
} from './common.schema.js';

const LABEL_KEY = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function createConversationSchema(limits: RequestLimits) {
  return z.strictObject(
    {
      model: z
        .string({ error: 'is required and must be a string' })
        .min(1, { error: 'must not be empty' })
        .max(256, { error: 'must be at most 256 characters' }),
      system_prompt: z
        .string({ error: 'must be a string' })
        .max(limits.maxMessageChars, {
          error: `must be at most ${limits.maxMessageChars} characters`,
        })
        .refine(isWellFormedUnicode, {
          error: 'contains an unpaired UTF-16 surrogate (invalid Unicode)',
        })
        .optional(),
      conversation_id: conversationIdSchema.optional(),
      labels: z
        .record(
          z.string().regex(LABEL_KEY, {
            error: 'label keys are 1-63 characters of a-z, 0-9, "_", "." and "-"',
          }),
          z
            .string({ error: 'label values must be strings' })
            .max(256, { error: 'label values are at most 256 characters' }),
          { error: 'must be an object of strings' },
        )
        .refine((labels) => Object.keys(labels).length <= 32, {
          error: 'may hold at most 32 labels',
        })
        .optional(),
    },
    { error: 'The request body must be a JSON object' },
  );
}

/** `POST /v1/conversations/:id/turns`: the new user input as `content` or as `messages`. */
export function sendTurnSchema(limits: RequestLimits) {
  return z
    .strictObject(
      {
        content: z.unknown().optional(),
        messages: z
          .array(messageSchema(limits, ['user', 'system', 'developer']), {
            error: 'must be an array of messages',
          })
          .min(1, { error: 'must contain at least one message' })
          .max(limits.maxMessages, { error: `may contain at most ${limits.maxMessages} messages` })
          .optional(),
        ...samplingShape(limits),
      },
      { error: 'The request body must be a JSON object' },
    )
    .superRefine((body, ctx) => {
      checkStreamOptions(body, ctx);
      if ((body.content === undefined) === (body.messages === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['content'],
          message: 'give exactly one of content (a string) or messages (an array)',
        });
      }
    })
    .transform((body, ctx) => {
      if (body.content === undefined) return { ...body, messages: body.messages ?? [] };
      const parsed = messageSchema(limits).safeParse({ role: 'user', content: body.content });
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          ctx.addIssue({ ...issue, path: ['content', ...issue.path.slice(1)] });
        return z.NEVER;
      }
      return { ...body, messages: [parsed.data] };
    });
}

export const listConversationsQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be between 1 and 100' })
    .max(100, { error: 'must be between 1 and 100' })
    .optional(),
  after: z.string().max(1024, { error: 'must be at most 1024 characters' }).optional(),
});
