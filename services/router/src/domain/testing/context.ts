import { DEFAULT_LATENCY_MODEL } from '../spill/latency-model.js';
import { DecisionContext, NO_QUEUES, type QueueDepth } from '../placement/placement-context.js';
import type { PlacementContext } from '../placement/policy.js';
import type { PlacementRequest } from '../placement/placement-request.js';
import { PrefixMatch } from '../placement/prefix-match.js';
import { aRequest } from './factories.js';

/** A placement context for one request, as the pipeline builds it. */
export function aContext(
  request: Partial<PlacementRequest> = {},
  options: { budgetMs?: number; nowMs?: number; queues?: QueueDepth } = {},
): PlacementContext {
  const full = aRequest(request);
  return new DecisionContext(
    full,
    options.nowMs ?? 1_000,
    options.budgetMs ?? 2_000,
    new PrefixMatch(full.promptBlocks),
    DEFAULT_LATENCY_MODEL,
    options.queues ?? NO_QUEUES,
  );
}
