import { metrics, type Counter, type Histogram } from '@opentelemetry/api';
import type {
  FailoverPhase,
  RefusalCode,
  RouterMetrics,
  ShadowResult,
  SpillDeclined,
} from '../../application/index.js';
import type { PlacementReason } from '../../domain/index.js';

/**
 * The router's instruments on the global meter (Prometheus /metrics when METRICS_PORT is set):
 * placements by reason (spill among them), spills declined for their cost, failovers by phase, refusals by code and reason, queue
 * depth per shard, shadow comparisons, turns and time to first token.
 */
export class OtelRouterMetrics implements RouterMetrics {
  private readonly placements: Counter;
  private readonly spills: Counter;
  private readonly spillsDeclined: Counter;
  private readonly failovers: Counter;
  private readonly refusals: Counter;
  private readonly shadows: Counter;
  private readonly turns: Counter;
  private readonly ttft: Histogram;
  private readonly resume: Histogram;

  private readonly meter = metrics.getMeter('spillway-router');

  constructor() {
    const meter = this.meter;
    this.placements = meter.createCounter('router_placements', {
      description: 'Turn placements, by reason (affinity, spill, new, failover, migration)',
    });
    this.spills = meter.createCounter('router_spills', {
      description: 'Turns moved off their conversation’s shard to meet their latency budget',
    });
    this.spillsDeclined = meter.createCounter('router_spills_declined', {
      description:
        'Spills placement proposed that the router did not take (ADR 0009), by why: cost-exceeds-gain (the cached context they would recompute cost the target’s turns more than the turn would gain) or home-within-budget (with the context the router knows it holds, the conversation’s shard meets the budget)',
    });
    this.failovers = meter.createCounter('router_failovers', {
      description: 'Turns moved to another shard after a failure, by phase',
    });
    this.refusals = meter.createCounter('router_refusals', {
      description: 'Turns refused early with a retry hint, by code and reason',
    });
    this.shadows = meter.createCounter('router_shadow_comparisons', {
      description: 'Shadow replies compared with the returned one, by result',
    });
    this.turns = meter.createCounter('router_turns', { description: 'Turns finished, by outcome' });
    this.resume = meter.createHistogram('router_resume_ms', {
      description:
        'From noticing a shard failed under a turn to the next shard’s first token, by phase',
      unit: 'ms',
      advice: {
        explicitBucketBoundaries: [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000],
      },
    });
    this.ttft = meter.createHistogram('router_ttft_ms', {
      description: 'Time from the turn arriving to its first token',
      unit: 'ms',
    });
  }

  /** Gauges read from the admission's state when metrics are collected. */
  observe(source: { queueDepths(): ReadonlyMap<string, number>; openStreamCount(): number }): void {
    this.meter
      .createObservableGauge('router_queue_depth', {
        description: 'Turns waiting in the router for a stream slot, per shard',
      })
      .addCallback((result) => {
        for (const [shard, depth] of source.queueDepths()) result.observe(depth, { shard });
      });
    this.meter
      .createObservableGauge('router_open_streams', {
        description: 'Generate streams this router has open',
      })
      .addCallback((result) => result.observe(source.openStreamCount()));
  }

  placed(reason: PlacementReason): void {
    this.placements.add(1, { reason });
    if (reason === 'spill') this.spills.add(1);
  }

  spillDeclined(why: SpillDeclined): void {
    this.spillsDeclined.add(1, { why });
  }

  failedOver(phase: FailoverPhase): void {
    this.failovers.add(1, { phase });
  }

  resumed(phase: FailoverPhase, ms: number): void {
    this.resume.record(ms, { phase });
  }

  refused(code: RefusalCode, reason: string): void {
    this.refusals.add(1, { code, reason });
  }

  shadowCompared(result: ShadowResult): void {
    this.shadows.add(1, { result });
  }

  turnFinished(outcome: 'completed' | 'cancelled' | 'failed', ttftMs: number | undefined): void {
    this.turns.add(1, { outcome });
    if (ttftMs !== undefined) this.ttft.record(ttftMs);
  }
}
