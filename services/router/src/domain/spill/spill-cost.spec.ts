import { aShard } from '../testing/factories.js';
import { DEFAULT_LATENCY_MODEL, type LatencyModelConfig } from './latency-model.js';
import {
  DEFAULT_SPILL_COST,
  lateness,
  recomputedPrefill,
  weighSpill,
  type SpillProposal,
} from './spill-cost.js';

/** A prediction with no queue wait, to keep the arithmetic visible. */
function ttft(ttftMs: number, prefillMs = 0) {
  return { queueWaitMs: ttftMs - prefillMs, prefillMs, ttftMs };
}

const budgetMs = 2_000;

function aProposal(overrides: Partial<SpillProposal> = {}): SpillProposal {
  return {
    budgetMs,
    home: ttft(2_400, 20),
    target: ttft(900, 900),
    recomputeMs: 300,
    waitingOnTarget: 0,
    refusedAtHome: false,
    ...overrides,
  };
}

/** The rule charging only the turns that wait (no price on the cache): the arithmetic in plain view. */
const WAITERS_ONLY = { ...DEFAULT_SPILL_COST, cacheTurns: 0 };

describe('spill cost', () => {
  it('charges the cache itself by default: on an idle target a spill must save six times its recompute', () => {
    // 300 ms of recompute, nobody waiting on the target: charged to the turn that waits for it and
    // five more for the cache, 1,800 ms. A turn 400 ms over its budget stays home; 1.9 s over spills.
    expect(weighSpill(aProposal(), DEFAULT_SPILL_COST)).toMatchObject({
      spill: false,
      why: 'cost-exceeds-gain',
      gainMs: 400,
      costMs: 1_800,
      turnsCharged: 6,
    });
    expect(weighSpill(aProposal({ home: ttft(3_900, 20) }), DEFAULT_SPILL_COST)).toMatchObject({
      spill: true,
      gainMs: 1_900,
      costMs: 1_800,
    });
  });

  it('keeps a long cached context home when the target has turns waiting', () => {
    // 17 k tokens cached at home (300 ms to recompute), three turns waiting on the target: the
    // recompute delays the target's next turn and, by Little's law, three more. The turn itself is
    // 400 ms over its budget at home.
    const verdict = weighSpill(aProposal({ waitingOnTarget: 3 }), WAITERS_ONLY);
    expect(verdict).toEqual({
      spill: false,
      why: 'cost-exceeds-gain',
      gainMs: 400,
      costMs: 1_200,
      turnsCharged: 4,
    });
  });

  it('spills a short context whose home breaks the budget badly', () => {
    const verdict = weighSpill(
      aProposal({
        home: ttft(6_000, 5),
        target: ttft(400, 30),
        recomputeMs: 30,
        waitingOnTarget: 2,
      }),
      WAITERS_ONLY,
    );
    expect(verdict).toMatchObject({ spill: true, why: 'gain-exceeds-cost', gainMs: 4_000 });
    expect(verdict.costMs).toBe(90);
  });

  it('spills even a long context when home is hopeless and the target idle', () => {
    const verdict = weighSpill(
      aProposal({ home: ttft(8_000, 20), target: ttft(435, 435), recomputeMs: 435 }),
      WAITERS_ONLY,
    );
    expect(verdict).toMatchObject({ spill: true, gainMs: 6_000, costMs: 435, turnsCharged: 1 });
  });

  it('counts only the overrun it avoids as gain by default, all of home minus target at weight 1', () => {
    const proposal = aProposal({ waitingOnTarget: 1 });
    expect(weighSpill(proposal, WAITERS_ONLY)).toMatchObject({
      spill: false,
      gainMs: 400,
      costMs: 600,
    });
    expect(weighSpill(proposal, { ...WAITERS_ONLY, belowBudgetGainWeight: 1 })).toMatchObject({
      spill: true,
      gainMs: 1_500,
      costMs: 600,
    });
  });

  it('charges the recompute to the conversation’s cold follow-up turns too', () => {
    const verdict = weighSpill(aProposal({ home: ttft(2_900, 20) }), {
      ...WAITERS_ONLY,
      coldFollowUpTurns: 2,
    });
    expect(verdict).toMatchObject({ spill: false, gainMs: 900, costMs: 900, turnsCharged: 3 });
  });

  it('spills for free when the target already holds what home does', () => {
    const verdict = weighSpill(
      aProposal({ home: ttft(2_001), recomputeMs: 0, waitingOnTarget: 10 }),
      WAITERS_ONLY,
    );
    expect(verdict).toMatchObject({ spill: true, gainMs: 1, costMs: 0 });
  });

  it('spills whatever the cost when staying home would get the turn refused', () => {
    const verdict = weighSpill(
      aProposal({ waitingOnTarget: 3, refusedAtHome: true }),
      WAITERS_ONLY,
    );
    expect(verdict).toMatchObject({ spill: true, why: 'refused-at-home', costMs: 1_200 });
  });

  it('keeps the turn home when home meets the budget after all', () => {
    // Placement saw no cache at home; with the context the router knows it holds, home makes it.
    const verdict = weighSpill(aProposal({ home: ttft(1_950, 20) }), WAITERS_ONLY);
    expect(verdict).toMatchObject({ spill: false, why: 'home-within-budget', gainMs: 0 });
  });

  it('takes every spill when the rule is off', () => {
    const verdict = weighSpill(aProposal({ waitingOnTarget: 3 }), {
      ...WAITERS_ONLY,
      enabled: false,
    });
    expect(verdict).toMatchObject({ spill: true, why: 'rule-off' });
  });

  it('measures lateness past the budget, and within it at the given weight', () => {
    expect(lateness(2_500, 2_000, 0)).toBe(500);
    expect(lateness(1_500, 2_000, 0)).toBe(0);
    expect(lateness(1_500, 2_000, 0.5)).toBe(750);
    expect(lateness(2_500, 2_000, 1)).toBe(2_500);
  });
});

describe('recomputed prefill', () => {
  const latency: LatencyModelConfig = {
    ...DEFAULT_LATENCY_MODEL,
    tokensPerBlock: 16,
    defaultPrefillTokensPerSecond: 10_000,
  };
  const target = aShard({ id: 'target' });

  it('is the context home holds beyond the target, at the target’s prefill speed', () => {
    // 1,000 blocks (16,000 tokens) at home, 1 on the target, of a 17,000-token prompt.
    expect(recomputedPrefill(target, 17_000, 1_000, 1, latency)).toEqual({
      tokens: 15_984,
      ms: 1_598.4,
    });
  });

  it('is nothing when the target holds as much as home', () => {
    expect(recomputedPrefill(target, 17_000, 10, 40, latency)).toEqual({ tokens: 0, ms: 0 });
  });

  it('includes attention when the latency model prices it: later tokens attend to more', () => {
    const withAttention = { ...latency, prefillAttentionMsPerMillionPairs: 1 };
    // Linear 1,600 ms, plus (16,000² − 0²) / 2 = 128 M pairs at 1 ms per million.
    expect(recomputedPrefill(target, 16_000, 1_000, 0, withAttention).ms).toBeCloseTo(1_728, 6);
    // The same 8,000 tokens cost more at the end of the context than at its start.
    const late = recomputedPrefill(target, 16_000, 1_000, 500, withAttention).ms;
    const early = recomputedPrefill(target, 16_000, 500, 0, withAttention).ms;
    expect(late).toBeGreaterThan(early);
  });
});
