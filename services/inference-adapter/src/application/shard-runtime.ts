import type { common } from '@spillway/contracts';
import {
  decideAdmission,
  initialAdmission,
  releaseStream,
  startDrain,
  type AdmissionDecision,
  type AdmissionState,
} from '../domain/admission.js';
import {
  nextLoadWindow,
  withLocalLoad,
  type EngineLoadSample,
  type LoadWindow,
} from '../domain/load-snapshot.js';
import { rememberPrefixBlocks } from '../domain/prefix-blocks.js';
import type { ClockPort } from './clock.port.js';
import type { EngineChatMessage, EngineHealth } from './engine.port.js';
import type { PromptTokenizerPort } from './prompt-tokenizer.port.js';

export const SHARD_RUNTIME = Symbol('ShardRuntime');

/** Who this shard is; fixed for the life of the process. */
export interface ShardIdentity {
  readonly shardId: string;
  readonly pool: string;
  readonly model: string;
  readonly zone: string;
  readonly maxInFlightStreams: number;
}

/** How many recent prefix blocks a load report carries (about 8 KB on the wire at most). */
export const RECENT_PREFIX_BLOCKS = 1_024;
/** Served prompts waiting to be hashed; older ones would be pushed out of the list anyway. */
const PENDING_PROMPTS = 64;

/**
 * The one piece of mutable state of a shard: admission, the engine's health and the last load
 * window. The decisions are the domain's pure functions; this only holds their results, so every
 * use case sees the same shard.
 */
export class ShardRuntime {
  private admission: AdmissionState;
  private health: EngineHealth = { ready: false, detail: 'the engine has not been probed yet' };
  private window: LoadWindow | undefined;
  private recentBlocks: number[] = [];
  private pendingPrompts: (readonly EngineChatMessage[])[] = [];
  private readonly servingListeners = new Set<(serving: boolean) => void>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly identity: ShardIdentity,
    private readonly clock: ClockPort,
    private readonly tokenizer: PromptTokenizerPort,
  ) {
    this.admission = initialAdmission(identity.maxInFlightStreams);
  }

  get shardId(): string {
    return this.identity.shardId;
  }

  get inFlight(): number {
    return this.admission.inFlight;
  }

  get draining(): boolean {
    return this.admission.draining;
  }

  get engineHealth(): EngineHealth {
    return this.health;
  }

  /** Whether new turns are welcome: the engine is ready and the shard is not draining. */
  get serving(): boolean {
    return this.health.ready && !this.admission.draining;
  }

  tryAdmit(): AdmissionDecision {
    const load = this.window?.snapshot;
    const decision = decideAdmission(this.admission, {
      ttftMsP50: load?.ttftMsP50 ?? 0,
      itlMsP50: load?.itlMsP50 ?? 0,
    });
    this.admission = decision.state;
    return decision;
  }

  release(): void {
    this.admission = releaseStream(this.admission);
    if (this.admission.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Stops admitting; returns the streams still in flight. Idempotent. */
  drain(): number {
    if (!this.admission.draining) {
      this.admission = startDrain(this.admission);
      this.notifyServing();
    }
    return this.admission.inFlight;
  }

  /** Resolves once no stream is in flight. */
  whenIdle(): Promise<void> {
    if (this.admission.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  setEngineHealth(health: EngineHealth): void {
    const wasServing = this.serving;
    this.health = health;
    if (wasServing !== this.serving) this.notifyServing();
  }

  onServingChange(listener: (serving: boolean) => void): () => void {
    this.servingListeners.add(listener);
    return () => this.servingListeners.delete(listener);
  }

  recordEngineSample(sample: EngineLoadSample | undefined): common.ShardLoad {
    this.hashServedPrompts();
    this.window = nextLoadWindow(this.window, sample, this.localLoad(), this.clock.nowMs());
    return this.window.snapshot;
  }

  /**
   * Notes a prompt the engine now holds in its prefix cache. Hashing it waits until a load report
   * or GetLoad needs the blocks, so it never delays the end of a turn.
   */
  promptServed(messages: readonly EngineChatMessage[]): void {
    this.pendingPrompts.push(messages);
    if (this.pendingPrompts.length > PENDING_PROMPTS) this.pendingPrompts.shift();
  }

  /** The last engine figures with the adapter's own counts as of now. */
  currentLoad(): common.ShardLoad {
    this.hashServedPrompts();
    const now = this.clock.nowMs();
    if (!this.window) return nextLoadWindow(undefined, undefined, this.localLoad(), now).snapshot;
    return withLocalLoad(this.window.snapshot, this.localLoad(), now);
  }

  private hashServedPrompts(): void {
    const prompts = this.pendingPrompts;
    if (prompts.length === 0) return;
    this.pendingPrompts = [];
    for (const messages of prompts) {
      const blocks = this.tokenizer.prefixBlockHashes(messages);
      if (blocks.length > 0)
        this.recentBlocks = rememberPrefixBlocks(this.recentBlocks, blocks, RECENT_PREFIX_BLOCKS);
    }
  }

  private localLoad() {
    return {
      inFlight: this.admission.inFlight,
      maxInFlight: this.admission.maxInFlight,
      recentPrefixBlocks: this.recentBlocks,
    };
  }

  private notifyServing(): void {
    const serving = this.serving;
    for (const listener of this.servingListeners) listener(serving);
  }
}
