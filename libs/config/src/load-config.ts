import { z } from 'zod';

/** Thrown when configuration does not match its schema; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(`${service}: invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates environment variables against a zod object schema whose keys are the variable names.
 * Returns the typed, defaulted object or throws a ConfigError naming each variable that is missing
 * or wrong, with what was expected.
 */
export function loadConfig<S extends z.ZodObject>(
  service: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '(root)');
    const value = env[variable];
    const shown = value === undefined ? 'is not set' : `has value ${JSON.stringify(value)}`;
    return `${variable} ${shown}: ${issue.message}`;
  });
  throw new ConfigError(service, problems);
}

/** Like loadConfig, but prints the problem and exits with status 78 (EX_CONFIG) for main.ts. */
export function loadConfigOrExit<S extends z.ZodObject>(
  service: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  try {
    return loadConfig(service, schema, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

/** Reusable field schemas for the variables most services share. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  hostPort: () => z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:19092'),
  hostPortList: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port')).min(1)),
  postgresUrl: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((v) => /^postgres(ql)?:\/\//.test(v), 'expected a postgres:// URL'),
  redisUrl: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((v) => /^rediss?:\/\//.test(v), 'expected a redis:// URL'),
  durationMs: (fallback: number) => z.coerce.number().int().min(0).default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
};

/** The infrastructure defaults of a development machine (deploy/local). */
export const LOCAL_DEFAULTS = {
  kafkaBrokers: '127.0.0.1:19092',
  postgresUrl: 'postgres://postgres@127.0.0.1:5432/spillway',
  redisUrl: 'redis://127.0.0.1:6379',
} as const;
