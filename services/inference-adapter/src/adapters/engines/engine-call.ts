import { EngineFailure } from '../../application/engine.port.js';
import { explainConnectCode } from './engine-address.js';

export interface EngineTimeouts {
  /** Until the engine answers with response headers. */
  readonly connectMs: number;
  /** From the headers until the first stream event. */
  readonly firstTokenMs: number;
  /** Between two stream events. */
  readonly interTokenMs: number;
  /** For the whole request. */
  readonly totalMs: number;
}

type Phase = 'connect' | 'first-token' | 'inter-token';

/**
 * One HTTP request to the engine with its abort controller and watchdogs. The controller aborts
 * when the caller goes away or a watchdog fires; the abort reason is always an EngineFailure, so
 * whatever the request throws can be turned back into what really happened.
 */
export class EngineCall {
  private readonly controller = new AbortController();
  private readonly totalTimer: NodeJS.Timeout;
  private phaseTimer: NodeJS.Timeout | undefined;
  private phase: Phase = 'connect';
  private events = 0;
  private readonly onCallerAbort = () => {
    this.abort(new EngineFailure('cancelled', 'the caller cancelled the request'));
    this.dispose();
  };

  constructor(
    private readonly caller: AbortSignal,
    private readonly timeouts: EngineTimeouts,
    private readonly engineUrl: string,
  ) {
    if (caller.aborted) this.onCallerAbort();
    else caller.addEventListener('abort', this.onCallerAbort, { once: true });
    // Watchdogs never keep the process alive on their own: the socket does while it matters.
    this.totalTimer = setTimeout(
      () =>
        this.abort(
          new EngineFailure('timeout', `the engine did not finish within ${timeouts.totalMs} ms`),
        ),
      timeouts.totalMs,
    ).unref();
    this.arm('connect');
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get eventCount(): number {
    return this.events;
  }

  /** The engine answered with headers: now wait for its first event. */
  accepted(): void {
    this.arm('first-token');
  }

  /** Stream data arrived: the engine is alive. */
  tick(): void {
    if (this.phase === 'inter-token') this.phaseTimer?.refresh();
    else this.arm('inter-token');
  }

  /** One stream event was read (for messages that say how far a stream got). */
  countEvent(): void {
    this.events++;
  }

  abort(reason: EngineFailure): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  dispose(): void {
    clearTimeout(this.totalTimer);
    if (this.phaseTimer) clearTimeout(this.phaseTimer);
    this.caller.removeEventListener('abort', this.onCallerAbort);
  }

  /**
   * What a thrown error means: the abort reason if we aborted, an EngineFailure as is, and
   * otherwise a network error classified by where it happened.
   */
  failure(error: unknown, stage: 'request' | 'body'): EngineFailure {
    const reason: unknown = this.controller.signal.aborted
      ? this.controller.signal.reason
      : undefined;
    if (reason instanceof EngineFailure) return reason;
    if (error instanceof EngineFailure) return error;
    const code = networkCode(error);
    const detail = code === undefined ? describe(error) : explainConnectCode(code);
    if (stage === 'request' && (code === undefined || !BROKEN_CONNECTION_CODES.has(code))) {
      return new EngineFailure(
        'unreachable',
        `cannot connect to the engine at ${this.engineUrl} (${detail})`,
        undefined,
        {
          cause: error,
        },
      );
    }
    return stage === 'request'
      ? new EngineFailure(
          'disconnected',
          `the engine at ${this.engineUrl} closed the connection before answering (${detail})`,
          undefined,
          {
            cause: error,
          },
        )
      : new EngineFailure(
          'disconnected',
          `the engine's stream broke after ${this.events} events (${detail})`,
          undefined,
          {
            cause: error,
          },
        );
  }

  private arm(phase: Phase): void {
    this.phase = phase;
    if (this.phaseTimer) clearTimeout(this.phaseTimer);
    const ms =
      phase === 'connect'
        ? this.timeouts.connectMs
        : phase === 'first-token'
          ? this.timeouts.firstTokenMs
          : this.timeouts.interTokenMs;
    this.phaseTimer = setTimeout(
      () => this.abort(timeoutFailure(phase, ms, this.events, this.engineUrl)),
      ms,
    ).unref();
  }
}

/** A connection was made and then lost; anything else before an answer means "could not connect". */
const BROKEN_CONNECTION_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

function timeoutFailure(phase: Phase, ms: number, events: number, url: string): EngineFailure {
  switch (phase) {
    case 'connect':
      return new EngineFailure('timeout', `the engine at ${url} did not answer within ${ms} ms`);
    case 'first-token':
      return new EngineFailure('timeout', `the engine produced no token within ${ms} ms`);
    case 'inter-token':
      return new EngineFailure(
        'timeout',
        `the engine stalled for ${ms} ms after ${events} stream events`,
      );
    default: {
      const unknownPhase: never = phase;
      return unknownPhase;
    }
  }
}

/** Socket errors carry a code, on the error itself (node:http) or on its cause (fetch, undici). */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (typeof current === 'object' && current !== null) {
      const code = (current as { code?: unknown }).code;
      if (typeof code === 'string') return code;
      current = (current as { cause?: unknown }).cause;
    } else break;
  }
  return undefined;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
