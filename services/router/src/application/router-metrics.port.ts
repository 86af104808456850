import type { PlacementReason, SpillWhy } from '../domain/index.js';

export type RefusalCode = 'DEADLINE.UNMEETABLE' | 'ADMISSION.SHED';
export type FailoverPhase = 'before-first-token' | 'mid-stream';
export type ShadowResult = 'match' | 'mismatch' | 'error' | 'skipped';

/** What the router counts (OpenTelemetry instruments behind it). */
export interface RouterMetrics {
  placed(reason: PlacementReason): void;
  /**
   * Placement proposed a spill and the turn stayed home (ADR 0009): the cache it would throw away
   * cost more than it would buy, or home meets the budget with the context the router knows it holds.
   */
  spillDeclined(why: SpillDeclined): void;
  failedOver(phase: FailoverPhase): void;
  /** A failed-over turn's next token: milliseconds from noticing the failure to it. */
  resumed(phase: FailoverPhase, ms: number): void;
  refused(code: RefusalCode, reason: string): void;
  shadowCompared(result: ShadowResult): void;
  turnFinished(outcome: 'completed' | 'cancelled' | 'failed', ttftMs: number | undefined): void;
}

export type SpillDeclined = Extract<SpillWhy, 'cost-exceeds-gain' | 'home-within-budget'>;

export const NO_METRICS: RouterMetrics = {
  placed: () => undefined,
  spillDeclined: () => undefined,
  failedOver: () => undefined,
  resumed: () => undefined,
  refused: () => undefined,
  shadowCompared: () => undefined,
  turnFinished: () => undefined,
};
