/** Time, randomness and logs: the side effects every use case may need, injected for tests. */
export interface Clock {
  nowMs(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface RandomSource {
  /** A uniformly random string over [0-9A-Za-z] from a CSPRNG. */
  base62(length: number): string;
}

export interface Log {
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
}
