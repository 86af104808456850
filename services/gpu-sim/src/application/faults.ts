import { z } from 'zod';

/**
 * Fault injection for tests. One mode at a time:
 * - none: normal service.
 * - die: the process exits (status 137, like a SIGKILLed engine) once any stream has emitted
 *   `afterTokens` tokens (0 = on the next request).
 * - hang: the engine stops stepping; open streams stay open and silent, new requests wait.
 * - slow: every step takes `factor` times as long.
 * - error: new requests get `status` (500 or 503) with an OpenAI-shaped error body.
 * - malformed: streams emit invalid JSON in their SSE `data:` lines after `afterTokens` tokens.
 */
export const faultSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }),
  z.object({ mode: z.literal('die'), afterTokens: z.number().int().min(0).default(0) }),
  z.object({ mode: z.literal('hang') }),
  z.object({ mode: z.literal('slow'), factor: z.number().positive().max(1000).default(10) }),
  z.object({
    mode: z.literal('error'),
    status: z.union([z.literal(500), z.literal(503)]).default(503),
  }),
  z.object({ mode: z.literal('malformed'), afterTokens: z.number().int().min(0).default(0) }),
]);

export type Fault = z.infer<typeof faultSchema>;

/** Parses GPU_SIM_FAULT: `none`, `die:5`, `hang`, `slow:10`, `error:500`, `malformed:3`. */
export function parseFaultSpec(spec: string): Fault {
  const [mode = 'none', argument] = spec.split(':', 2);
  const value = argument === undefined ? undefined : Number(argument);
  const raw: Record<string, unknown> = { mode };
  if (value !== undefined) {
    if (mode === 'die' || mode === 'malformed') raw.afterTokens = value;
    else if (mode === 'slow') raw.factor = value;
    else if (mode === 'error') raw.status = value;
  }
  return faultSchema.parse(raw);
}

/** The fault in force; read by the engine loop and the HTTP adapters. */
export class FaultState {
  private current: Fault = { mode: 'none' };
  private readonly listeners: ((fault: Fault) => void)[] = [];

  get fault(): Fault {
    return this.current;
  }

  set(fault: Fault): void {
    this.current = fault;
    for (const listener of this.listeners) listener(fault);
  }

  onChange(listener: (fault: Fault) => void): void {
    this.listeners.push(listener);
  }

  get stepFactor(): number {
    return this.current.mode === 'slow' ? this.current.factor : 1;
  }
}
