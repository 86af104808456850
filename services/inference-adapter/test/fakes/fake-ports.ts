import type { ClockPort } from '../../src/application/clock.port.js';
import {
  EngineFailure,
  type EngineChatRequest,
  type EngineHealth,
  type EnginePort,
  type EngineStream,
  type EngineUsage,
} from '../../src/application/engine.port.js';
import type { LogPort } from '../../src/application/log.port.js';
import type { PromptTokenizerPort } from '../../src/application/prompt-tokenizer.port.js';
import { ShardRuntime, type ShardIdentity } from '../../src/application/shard-runtime.js';
import {
  ShardNotRegistered,
  type RegistryShardState,
  type ShardDescriptor,
  type ShardHeartbeat,
  type ShardRegistryPort,
} from '../../src/application/shard-registry.port.js';
import type { EngineLoadSample } from '../../src/domain/load-snapshot.js';

/** Fakes of the application's ports, for unit tests of the use cases. */

export class ManualClock implements ClockPort {
  now = 1_700_000_000_000;
  readonly sleeps: number[] = [];
  nowMs(): number {
    return this.now;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    this.now += ms;
    // Yield so loops under test interleave with the test body.
    await new Promise((resolve) => setImmediate(resolve));
    void signal;
  }
}

export class RecordingLog implements LogPort {
  readonly entries: {
    level: string;
    message: string;
    fields?: Readonly<Record<string, unknown>>;
  }[] = [];
  info(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.entries.push({ level: 'info', message, ...(fields ? { fields } : {}) });
  }
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.entries.push({ level: 'warn', message, ...(fields ? { fields } : {}) });
  }
  error(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.entries.push({ level: 'error', message, ...(fields ? { fields } : {}) });
  }
}

/** Counts one token per whitespace-separated word plus a fixed template cost. */
export const wordTokenizer: PromptTokenizerPort = {
  countPromptTokens: (messages) =>
    messages.reduce((n, m) => n + 5 + m.content.split(/\s+/).filter(Boolean).length, 1),
  prefixBlockHashes: (messages) => messages.map((_, i) => 1_000 + i),
};

export interface EngineScript {
  readonly deltas?: readonly string[];
  readonly failOnOpen?: EngineFailure;
  /** Thrown after the deltas instead of finishing. */
  readonly failAfterDeltas?: EngineFailure;
  /** The stream waits for this before finishing. */
  readonly hold?: Promise<void>;
  readonly usage?: EngineUsage;
}

/** An engine whose every stream follows `script`. */
export class ScriptedEngine implements EnginePort {
  readonly kind = 'vllm' as const;
  readonly baseUrl = 'http://engine.test';
  health: EngineHealth = { ready: true, detail: 'ready' };
  sample: EngineLoadSample | undefined = { running: 1, waiting: 0 };
  readonly requests: EngineChatRequest[] = [];
  aborted = 0;

  constructor(public script: EngineScript = { deltas: ['Hello', ' there'] }) {}

  async openChatStream(request: EngineChatRequest, signal: AbortSignal): Promise<EngineStream> {
    this.requests.push(request);
    const script = this.script;
    if (script.failOnOpen) throw script.failOnOpen;
    const onAbort = () => this.aborted++;
    signal.addEventListener('abort', onAbort, { once: true });
    const events = (async function* () {
      for (const text of script.deltas ?? []) yield { kind: 'delta', text, tokens: 1 } as const;
      if (script.hold) await script.hold;
      if (signal.aborted) throw new EngineFailure('cancelled', 'the caller cancelled the request');
      if (script.failAfterDeltas) throw script.failAfterDeltas;
      yield { kind: 'finished', finishReason: 'stop', usage: script.usage } as const;
    })();
    return { [Symbol.asyncIterator]: () => events, cancel: () => void events.return(undefined) };
  }

  async complete(request: EngineChatRequest): Promise<EngineUsage | undefined> {
    this.requests.push(request);
    if (this.script.failOnOpen) throw this.script.failOnOpen;
    return { promptTokens: 40, completionTokens: 1, cachedPromptTokens: 0 };
  }

  async probeHealth(): Promise<EngineHealth> {
    return this.health;
  }

  async scrapeLoad(): Promise<EngineLoadSample | undefined> {
    return this.sample;
  }
}

export class FakeRegistry implements ShardRegistryPort {
  readonly registered: ShardDescriptor[] = [];
  readonly heartbeats: ShardHeartbeat[] = [];
  /** Calls before the registry "comes up": each one fails as unreachable. */
  unreachableCalls = 0;
  state: RegistryShardState = 'ready';
  forgetShardOnce = false;

  async register(shard: ShardDescriptor): Promise<{ heartbeatIntervalMs: number }> {
    this.failIfDown();
    this.registered.push(shard);
    return { heartbeatIntervalMs: 500 };
  }

  async heartbeat(beat: ShardHeartbeat): Promise<{ state: RegistryShardState }> {
    this.failIfDown();
    if (this.forgetShardOnce) {
      this.forgetShardOnce = false;
      throw new ShardNotRegistered(beat.shardId);
    }
    this.heartbeats.push(beat);
    return { state: this.state };
  }

  private failIfDown(): void {
    if (this.unreachableCalls > 0) {
      this.unreachableCalls--;
      throw new Error('14 UNAVAILABLE: No connection established');
    }
  }
}

export const identity = (overrides: Partial<ShardIdentity> = {}): ShardIdentity => ({
  shardId: 'shard-a1',
  pool: 'pool-8b',
  model: 'llama-3.1-8b',
  zone: 'zone-a',
  maxInFlightStreams: 2,
  ...overrides,
});

export function readyRuntime(
  overrides: Partial<ShardIdentity> = {},
  clock: ClockPort = new ManualClock(),
): ShardRuntime {
  const runtime = new ShardRuntime(identity(overrides), clock, wordTokenizer);
  runtime.setEngineHealth({ ready: true, detail: 'ready' });
  return runtime;
}
