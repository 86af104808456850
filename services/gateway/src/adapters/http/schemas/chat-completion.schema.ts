import { z } from 'zod';
import {
  checkStreamOptions,
  messageSchema,
  type RequestLimits,
  samplingShape,
} from './common.schema.js';

/** Parameters OpenAI defines that this gateway cannot honour: refused by name, never silently dropped. */
const UNSUPPORTED = [
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'top_logprobs',
  'audio',
  'prediction',
  'web_search_options',
] as const;

/** `POST /v1/chat/completions`, OpenAI's request with the limits of this deployment. */
export function chatCompletionRequestSchema(limits: RequestLimits) {
  const unsupported = Object.fromEntries(
    UNSUPPORTED.map((name) => [name, z.unknown().optional()]),
  ) as Record<(typeof UNSUPPORTED)[number], z.ZodOptional<z.ZodUnknown>>;
  return z
    .strictObject(
      {
        model: z
          .string({ error: 'is required and must be a string' })
          .min(1, { error: 'must not be empty' })
          .max(256, { error: 'must be at most 256 characters' }),
        messages: z
          .array(messageSchema(limits), { error: 'is required and must be an array of messages' })
          .min(1, { error: 'must contain at least one message' })
          .max(limits.maxMessages, { error: `may contain at most ${limits.maxMessages} messages` }),
        ...samplingShape(limits),
        n: z.number({ error: 'must be a number' }).nullish(),
        logprobs: z.boolean({ error: 'must be a boolean' }).nullish(),
        logit_bias: z
          .record(z.string(), z.number(), { error: 'must be an object of token ids to numbers' })
          .nullish(),
        response_format: z
          .looseObject(
            { type: z.string({ error: 'must be a string' }) },
            { error: 'must be an object' },
          )
          .nullish(),
        modalities: z.array(z.string(), { error: 'must be an array of strings' }).nullish(),
        // Accepted and ignored: they change nothing about the reply.
        store: z.boolean({ error: 'must be a boolean' }).nullish(),
        metadata: z
          .record(z.string(), z.string(), { error: 'must be an object of strings' })
          .nullish(),
        service_tier: z.string({ error: 'must be a string' }).nullish(),
        parallel_tool_calls: z.boolean({ error: 'must be a boolean' }).nullish(),
        ...unsupported,
      },
      { error: 'The request body must be a JSON object' },
    )
    .superRefine((body, ctx) => {
      checkStreamOptions(body, ctx);
      if (body.n !== undefined && body.n !== null && body.n !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['n'],
          message: `only n=1 is supported; got ${body.n}`,
        });
      }
      if (body.logprobs === true)
        ctx.addIssue({ code: 'custom', path: ['logprobs'], message: 'logprobs are not supported' });
      if (body.logit_bias && Object.keys(body.logit_bias).length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['logit_bias'],
          message: 'logit_bias is not supported',
        });
      }
      if (body.response_format && body.response_format.type !== 'text') {
        ctx.addIssue({
          code: 'custom',
          path: ['response_format', 'type'],
          message: `response_format ${JSON.stringify(body.response_format.type)} is not supported; only "text" is`,
        });
      }
      if (body.modalities && body.modalities.some((m) => m !== 'text')) {
        ctx.addIssue({
          code: 'custom',
          path: ['modalities'],
          message: 'only the "text" modality is supported',
        });
      }
      for (const name of UNSUPPORTED) {
        const value = body[name];
        if (value === undefined || value === null || (Array.isArray(value) && value.length === 0))
          continue;
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `${name} is not supported by this API`,
        });
      }
      if (
        body.max_tokens !== undefined &&
        body.max_tokens !== null &&
        body.max_completion_tokens !== undefined &&
        body.max_completion_tokens !== null &&
        body.max_tokens !== body.max_completion_tokens
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['max_completion_tokens'],
          message: 'differs from max_tokens; set only one of them',
        });
      }
    });
}

export type ChatCompletionRequest = z.infer<ReturnType<typeof chatCompletionRequestSchema>>;
