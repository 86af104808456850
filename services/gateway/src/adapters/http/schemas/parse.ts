import { type z } from 'zod';
import { invalidRequest } from '../../../application/errors.js';

/** `['messages', 0, 'content']` → `messages[0].content`, the way OpenAI names a `param`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/**
 * Validates `input` or throws REQUEST.INVALID whose `param` names the first offending field and
 * whose message says what is wrong with it (and, for several problems, how many more there are).
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  root = 'body',
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0];
  if (!first) throw invalidRequest(root, 'The request is invalid.');
  let param = formatPath(first.path);
  let message: string;
  if (first.code === 'unrecognized_keys') {
    const key = first.keys[0] ?? '';
    param = param === '' ? key : `${param}.${key}`;
    message = `Unrecognized request argument supplied: ${first.keys.map((k) => `'${param === key ? k : `${formatPath(first.path)}.${k}`}'`).join(', ')}.`;
  } else {
    message = param === '' ? first.message : `Invalid '${param}': ${first.message}`;
  }
  if (issues.length > 1)
    message += ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})`;
  throw invalidRequest(
    param === '' ? root : param,
    message,
    first.code === 'unrecognized_keys' ? 'unknown_parameter' : 'invalid_value',
  );
}
