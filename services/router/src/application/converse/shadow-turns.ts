import type { PlacementPipeline, ShardDirectory } from '../../domain/index.js';
import type { Clock } from '../clock.port.js';
import type { InferencePort } from '../inference.port.js';
import type { LogPort } from '../log.port.js';
import type { RouterMetrics } from '../router-metrics.port.js';
import type { Timer } from '../timer.port.js';
import type { TurnSpec } from './turn-runner.js';

/** A shadow copy in flight: settle it with the reply the caller got (or nothing, if it failed). */
export interface ShadowRun {
  settle(primaryText: string | undefined): void;
}

const NOT_SENT: ShadowRun = { settle: () => undefined };

export interface ShadowTurnsDependencies {
  readonly pipeline: PlacementPipeline;
  readonly shards: ShardDirectory;
  readonly inference: InferencePort;
  readonly clock: Clock;
  readonly timer: Timer;
  readonly metrics: RouterMetrics;
  readonly log: LogPort;
  /** A shadow reply that takes longer than this is given up. */
  readonly timeoutMs: number;
}

/**
 * Shadow traffic: a sampled copy of a turn goes to the model's shadow pool (a new model version
 * under evaluation). Its reply is recorded and compared with the one the caller got (a counter by
 * result and a log line), and never returned. The copy takes no slot in the router's queues and is
 * not pinned: it must never slow down or move the real conversation.
 */
export class ShadowTurns {
  constructor(private readonly deps: ShadowTurnsDependencies) {}

  launch(spec: TurnSpec, pool: string): ShadowRun {
    const { pipeline, shards, clock, metrics } = this.deps;
    const decision = pipeline.decide(
      {
        conversationId: `${spec.conversationId}#shadow`,
        promptBlocks: spec.encoded.blocks,
        promptTokens: spec.encoded.promptTokens,
        priority: spec.priority,
        pools: [pool],
      },
      shards,
      clock.nowMs(),
    );
    if (decision.kind !== 'placed') {
      metrics.shadowCompared('skipped');
      return NOT_SENT;
    }
    const shard = decision.shard;
    const controller = new AbortController();
    const cancelTimeout = this.deps.timer.schedule(this.deps.timeoutMs, () => controller.abort());
    const shadowText = this.collect(spec, shard.id, shard.endpoint, controller.signal).finally(
      cancelTimeout,
    );
    return {
      settle: (primaryText) => {
        if (primaryText === undefined) {
          controller.abort();
          void shadowText.catch(() => undefined);
          return;
        }
        void shadowText.then(
          (text) => this.compare(spec, shard.id, pool, primaryText, text),
          (error: unknown) => {
            metrics.shadowCompared('error');
            this.deps.log.warn('shadow reply failed', {
              turnId: spec.turnId,
              shadowPool: pool,
              shardId: shard.id,
              error: error instanceof Error ? error.message : String(error),
            });
          },
        );
      },
    };
  }

  private async collect(
    spec: TurnSpec,
    shardId: string,
    endpoint: string,
    signal: AbortSignal,
  ): Promise<string> {
    let text = '';
    let completed = false;
    for await (const event of this.deps.inference.generate(
      { shardId, endpoint },
      {
        requestId: `${spec.turnId}.shadow`,
        conversationId: spec.conversationId,
        tenantId: spec.tenantId,
        model: '',
        messages: spec.messages,
        sampling: spec.sampling,
        priority: spec.priority,
        resumeFromText: '',
      },
      signal,
    )) {
      if (event.kind === 'delta') text += event.text;
      if (event.kind === 'completed') completed = true;
    }
    if (!completed) throw new Error(`shard ${shardId} ended the shadow stream early`);
    return text;
  }

  private compare(
    spec: TurnSpec,
    shardId: string,
    pool: string,
    primary: string,
    shadow: string,
  ): void {
    const match = primary === shadow;
    this.deps.metrics.shadowCompared(match ? 'match' : 'mismatch');
    this.deps.log.info('shadow reply compared', {
      turnId: spec.turnId,
      conversationId: spec.conversationId,
      model: spec.model,
      shadowPool: pool,
      shardId,
      result: match ? 'match' : 'mismatch',
      primaryChars: primary.length,
      shadowChars: shadow.length,
      firstDifferenceAt: match ? undefined : firstDifference(primary, shadow),
    });
  }
}

function firstDifference(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return i;
  return length;
}
