import { z } from 'zod';
import type { ChatTurn } from '../../domain/chat-template.js';
import type { ChatInput, CompletionInput } from '../../application/serve-completion.use-case.js';
import { InvalidJsonBody } from './json-body.js';

// OpenAI request bodies. Unknown fields are accepted and ignored (clients send many: tools,
// logprobs, response_format, …); known fields are checked, and the first problem is reported
// with the field's path as OpenAI's `param`.

const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const content = z.union([z.string(), z.array(textPart)]).nullable();
const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: content.optional(),
  name: z.string().optional(),
});
const stop = z.union([z.string(), z.array(z.string()).max(4)]).nullish();
const seed = z.number().int().nullish();
const streamOptions = z.looseObject({ include_usage: z.boolean().nullish() }).nullish();

export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().nullish(),
  messages: z.array(message).min(1),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  seed,
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.literal(1, { message: 'only n=1 is supported' }).nullish(),
  stop,
  presence_penalty: z.number().min(-2).max(2).nullish(),
  // vLLM extension: generate exactly max_tokens.
  ignore_eos: z.boolean().nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  user: z.string().nullish(),
});

const tokenIds = z.array(z.number().int().min(0)).min(1);
export const completionRequestSchema = z.looseObject({
  model: z.string().nullish(),
  prompt: z.union([
    z.string(),
    z.array(z.string()).length(1),
    tokenIds,
    z.array(tokenIds).length(1),
  ]),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  max_tokens: z.number().int().min(1).nullish(),
  seed,
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.literal(1, { message: 'only n=1 is supported' }).nullish(),
  echo: z.literal(false, { message: 'echo is not supported' }).nullish(),
  best_of: z.literal(1, { message: 'only best_of=1 is supported' }).nullish(),
  stop,
  ignore_eos: z.boolean().nullish(),
  user: z.string().nullish(),
});

export interface ParsedChat {
  readonly input: ChatInput;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly model: string | undefined;
}

export interface ParsedCompletion {
  readonly input: CompletionInput;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly model: string | undefined;
}

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly param: string | null; readonly message: string };

/** `messages[0].content` style path, as OpenAI names a parameter. */
function paramOf(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.reduce<string>(
    (acc, key) =>
      typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key),
    '',
  );
}

function bodyProblem(body: unknown): Parsed<never> | undefined {
  if (body instanceof InvalidJsonBody)
    return {
      ok: false,
      param: null,
      message: `The request body is not valid JSON: ${body.reason}`,
    };
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, param: null, message: 'The request body must be a JSON object.' };
  }
  return undefined;
}

function firstIssue(error: z.ZodError): Parsed<never> {
  const issue = error.issues[0];
  const param = paramOf(issue?.path ?? []);
  const detail = issue?.message ?? 'invalid value';
  return { ok: false, param, message: param ? `Invalid value for '${param}': ${detail}` : detail };
}

function stops(value: string | string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

function textOf(value: z.infer<typeof content> | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : value.map((part) => part.text).join('');
}

export function parseChatCompletionRequest(body: unknown): Parsed<ParsedChat> {
  const problem = bodyProblem(body);
  if (problem) return problem;
  const result = chatCompletionRequestSchema.safeParse(body);
  if (!result.success) return firstIssue(result.error);
  const r = result.data;
  const messages: ChatTurn[] = r.messages.map((m) => ({
    role: m.role,
    content: textOf(m.content),
  }));
  return {
    ok: true,
    value: {
      input: {
        messages,
        maxTokens: r.max_completion_tokens ?? r.max_tokens ?? undefined,
        seed: r.seed ?? undefined,
        stop: stops(r.stop),
        ignoreEos: r.ignore_eos === true,
      },
      stream: r.stream === true,
      includeUsage: r.stream_options?.include_usage === true,
      model: r.model ?? undefined,
    },
  };
}

export function parseCompletionRequest(body: unknown): Parsed<ParsedCompletion> {
  const problem = bodyProblem(body);
  if (problem) return problem;
  const result = completionRequestSchema.safeParse(body);
  if (!result.success) return firstIssue(result.error);
  const r = result.data;
  const first = Array.isArray(r.prompt) ? r.prompt[0] : undefined;
  const prompt: string | number[] =
    typeof r.prompt === 'string'
      ? r.prompt
      : typeof first === 'string'
        ? first
        : Array.isArray(first)
          ? first
          : (r.prompt as number[]);
  return {
    ok: true,
    value: {
      // OpenAI's legacy completions default to 16 tokens.
      input: {
        prompt,
        maxTokens: r.max_tokens ?? 16,
        seed: r.seed ?? undefined,
        stop: stops(r.stop),
        ignoreEos: r.ignore_eos === true,
      },
      stream: r.stream === true,
      includeUsage: r.stream_options?.include_usage === true,
      model: r.model ?? undefined,
    },
  };
}
