import { env, loadConfig, z } from '@spillway/config';
import { TOPIC_NAMES } from '@spillway/messaging';
import {
  DEFAULT_PLACEMENT_CONFIG,
  DEFAULT_SPILL_COST,
  DEFAULT_TIER_POLICIES,
  type CandidateSelection,
  type FilterName,
  type PickerConfig,
  type PriorityTier,
  type ScorerName,
  type SpillCostConfig,
  type TierPolicies,
} from './domain/index.js';

const hostPort = z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:50070');
/** One registry, or every instance of an active–standby registry (IPv4 literals: grpc-js resolves those). */
const registryAddress = z
  .string()
  .regex(
    /^(?:[^:\s,]+:\d{1,5}|\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}(?:,\d{1,3}(?:\.\d{1,3}){3}:\d{1,5})+)$/,
    'expected host:port, or several IPv4 host:port separated by commas, e.g. 127.0.0.1:50070,127.0.0.1:50071',
  );
const positiveMs = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

const FILTERS: readonly FilterName[] = [
  'healthy',
  'pool',
  'has-headroom',
  'same-zone-first',
  'fits-latency-budget',
];
const SCORERS: readonly ScorerName[] = [
  'affinity',
  'prefix-overlap',
  'least-load',
  'headroom',
  'zone',
  'predicted-ttft',
];
const TIERS: readonly PriorityTier[] = ['critical', 'high', 'standard', 'low', 'batch'];

/** `name=value,name=value` with names from `names` and non-negative numbers. */
function weights<N extends string>(names: readonly N[], fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((value, context) => {
      const out: Partial<Record<N, number>> = {};
      for (const entry of value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)) {
        const [name = '', raw = ''] = entry.split('=', 2).map((part) => part.trim());
        const number = Number(raw);
        if (!(names as readonly string[]).includes(name) || raw === '' || !(number >= 0)) {
          context.addIssue({
            code: 'custom',
            message: `"${entry}": expected name=number with a name from ${names.join(', ')}`,
          });
          return z.NEVER;
        }
        out[name as N] = number;
      }
      return out;
    });
}

function pairs(record: Readonly<Partial<Record<string, number>>>): string {
  return Object.entries(record)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
}

const filterList = z
  .string()
  .default(DEFAULT_PLACEMENT_CONFIG.filters.join(','))
  .transform((value, context) => {
    const names = value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    const unknown = names.filter((name) => !(FILTERS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      context.addIssue({
        code: 'custom',
        message: `unknown filter(s) ${unknown.join(', ')}; known: ${FILTERS.join(', ')}`,
      });
      return z.NEVER;
    }
    return names as FilterName[];
  });

const picker = z
  .string()
  .default('max-score')
  .transform((value, context): PickerConfig => {
    const [kind, topK] = value.split(':', 2);
    if (kind === 'max-score') return { kind: 'max-score' };
    if (kind === 'weighted-random') return { kind: 'weighted-random' };
    if (kind === 'power-of-two' && (topK === undefined || /^\d+$/.test(topK)))
      return { kind: 'power-of-two', topK: Number(topK ?? 0) };
    context.addIssue({
      code: 'custom',
      message: 'expected max-score, weighted-random or power-of-two[:topK]',
    });
    return z.NEVER;
  });

const candidates = z
  .string()
  .default('sampled:8:8')
  .transform((value, context): CandidateSelection => {
    if (value === 'all') return { mode: 'all' };
    const match = /^sampled:(\d+):(\d+)$/.exec(value);
    if (match) {
      return {
        mode: 'sampled',
        prefixHolders: Number(match[1]),
        randomSamples: Number(match[2]),
      };
    }
    context.addIssue({
      code: 'custom',
      message: 'expected all or sampled:<prefix holders>:<random samples>, e.g. sampled:8:8',
    });
    return z.NEVER;
  });

export const routerConfigSchema = z
  .object({
    GRPC_HOST: z.string().min(1).default('127.0.0.1'),
    /** 0: any free port (the ready line says which). */
    GRPC_PORT: env.port(50051),
    /** The shard registry (shard-metadata): one address, or every instance's (docs/adr/0008). */
    REGISTRY_ADDRESS: registryAddress.default('127.0.0.1:50070'),
    REGISTRY_DEADLINE_MS: positiveMs(2_000),
    /** How long start-up waits for the registry's first snapshots before serving anyway. */
    REGISTRY_WAIT_MS: env.durationMs(10_000),
    WATCH_BACKOFF_INITIAL_MS: positiveMs(100),
    WATCH_BACKOFF_MAX_MS: positiveMs(5_000),
    /** Unset: no usage records on Kafka. */
    KAFKA_BROKERS: z
      .string()
      .optional()
      .transform((value) =>
        value === undefined || value.trim() === ''
          ? undefined
          : value
              .split(',')
              .map((part) => part.trim())
              .filter(Boolean),
      )
      .pipe(z.array(hostPort).min(1).optional()),
    REQUESTS_TOPIC: z.string().min(1).default(TOPIC_NAMES.requests),
    /** Partitions if the router has to create REQUESTS_TOPIC. */
    REQUESTS_TOPIC_PARTITIONS: z.coerce.number().int().min(1).default(6),
    /** Where shard-metadata publishes ShardFailed and ShardDraining: the migration saga's input. */
    SHARD_LIFECYCLE_TOPIC: z.string().min(1).default(TOPIC_NAMES.shardLifecycle),
    /**
     * The migration saga's consumer group: one per system (every router replica of it shares the
     * group), so two systems on one broker never take each other's lifecycle events.
     */
    MIGRATION_CONSUMER_GROUP: z.string().min(1).default('spillway-router-migration'),
    /** conversation-state's ConversationStore; unset: history in this process (one replica only). */
    CONVERSATION_STORE_ADDRESS: hostPort.optional(),
    CONVERSATION_STORE_DEADLINE_MS: positiveMs(5_000),
    /** Prompt budget for the context of a turn (shards' tokens). */
    CONTEXT_TOKEN_BUDGET: z.coerce.number().int().min(1).max(10_000_000).default(120_000),
    /** The model route table as JSON: {"models":{"<model>":{"pools":[{"pool":"…","weight":1}],"shadow":{"pool":"…","sampleRate":0.1}}}}. */
    MODEL_ROUTES: z.string().min(1).optional(),
    /** The same table in a file, re-read on SIGHUP (a rollback: edit, then kill -HUP). */
    MODEL_ROUTES_FILE: z.string().min(1).optional(),
    /**
     * Without MODEL_ROUTES or MODEL_ROUTES_FILE: `registry` (default) follows the table every
     * replica shares, stored in the shard registry, and ReplaceModelRoutes writes to it; `derived`
     * keeps this replica's own table, derived from the pools the shards serve, as before.
     */
    MODEL_ROUTES_SOURCE: z.enum(['registry', 'derived']).optional(),
    /** This router's zone: shards there are preferred. */
    ZONE: z.string().min(1).optional(),
    PLACEMENT_FILTERS: filterList,
    PLACEMENT_SCORERS: weights(SCORERS, pairs(DEFAULT_PLACEMENT_CONFIG.scorers)),
    PLACEMENT_PICKER: picker,
    PLACEMENT_CANDIDATES: candidates,
    /** Index one recent prefix block in this many (a power of two; 1 is exact). */
    DIRECTORY_SAMPLE_EVERY: z.coerce.number().int().min(1).max(1_024).default(1),
    /**
     * Typical reply length the latency model assumes a turn holds its slot for, until it has
     * learned the real one from finished turns.
     */
    EXPECTED_OUTPUT_TOKENS: z.coerce.number().int().min(1).default(256),
    /** Prefill throughput the latency model assumes for a shard (tokens/s, wall clock). */
    PREFILL_TOKENS_PER_SECOND: z.coerce.number().positive().default(10_000),
    /**
     * Attention's share of a prefill, ms per million query·key pairs at PREFILL_TOKENS_PER_SECOND
     * (a prompt of n tokens after c cached computes (n² − c²) / 2 pairs): set it from the hardware
     * profile with the prefill rate (0.95 for Llama 3.1 8B on an H100). 0: prefill is linear in the
     * tokens, and long prompts and recomputed contexts are priced low.
     */
    PREFILL_ATTENTION_MS_PER_MILLION_PAIRS: z.coerce.number().min(0).default(0),
    /**
     * Spill cost rule (ADR 0009): `on` takes a spill only when the first-token lateness it saves
     * the turn exceeds its recomputed prefill times the target's turns that wait for it; `off` takes
     * every spill placement proposes.
     */
    SPILL_COST_RULE: z.enum(['on', 'off']).default(DEFAULT_SPILL_COST.enabled ? 'on' : 'off'),
    /**
     * What a millisecond of first-token time saved within the budget counts for next to one saved
     * past it, 0..1: 0 counts only the overrun a spill avoids, 1 all of home minus target.
     */
    SPILL_COST_BELOW_BUDGET_GAIN_WEIGHT: z.coerce
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_SPILL_COST.belowBudgetGainWeight),
    /**
     * The conversation's own turns expected at a spill's target before its prefix is (each charged
     * the recompute): 0 for chat, more for callers sending several turns on one context at once.
     */
    SPILL_COST_COLD_FOLLOW_UP_TURNS: z.coerce
      .number()
      .min(0)
      .default(DEFAULT_SPILL_COST.coldFollowUpTurns),
    /**
     * The price of the prefix cache a spill throws away, in turns charged its recompute on top of
     * the ones that wait for it on the target: a spill must save its turn this many times more
     * first-token lateness than the recompute takes. Every recomputed token is a cache miss the
     * hit-ratio target counts (issue 4); 0 prices it only by the target's waiting turns. On the
     * affinity bench (docs/benchmarks.md, session 7) spills cost 0.3–1.0 points of the ceiling at
     * 0 (2.3 with 13 % more KV per shard) and 0.1–0.3 at 5, the first-token tail within the
     * runs' spread: small contexts still spill, a 12 k-token one there needs over a second of gain.
     */
    SPILL_COST_CACHE_TURNS: z.coerce.number().min(0).default(DEFAULT_SPILL_COST.cacheTurns),
    /** Default time-to-first-token budget per priority tier. */
    TIER_TTFT_BUDGETS_MS: weights(
      TIERS,
      pairs(
        Object.fromEntries(
          TIERS.map((tier) => [tier, DEFAULT_TIER_POLICIES[tier].defaultTtftBudgetMs]),
        ),
      ),
    ),
    /** Turns that may wait in the router's queue for one shard. */
    QUEUE_CAPACITY_PER_SHARD: z.coerce.number().int().min(1).default(64),
    ADMISSION_SWEEP_INTERVAL_MS: positiveMs(50),
    MAX_FAILOVERS_PER_TURN: z.coerce.number().int().min(0).max(16).default(3),
    /** A stream silent this long is given up and the turn moves on; 0: never. */
    STREAM_STALL_TIMEOUT_MS: env.durationMs(30_000),
    /** A failed-over turn with no other ready shard waits this long for one; 0: fail at once. */
    FAILOVER_WAIT_FOR_SHARD_MS: env.durationMs(3_000),
    GENERATE_DEADLINE_MS: positiveMs(600_000),
    /** A shard that just failed a turn is left out of placements this long. */
    SUSPECT_SHARD_MS: env.durationMs(2_000),
    SHADOW_TIMEOUT_MS: positiveMs(120_000),
    /** Seed of placement's random choices; unset: from the clock. */
    RANDOM_SEED: z.coerce.number().int().optional(),
    SHUTDOWN_GRACE_MS: env.durationMs(5_000),
    /** debug adds a line per placement and refusal. */
    LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug']).default('log'),
    /** Read by @spillway/telemetry/register; validated here so a typo names the variable. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  })
  .superRefine((config, context) => {
    if (config.MODEL_ROUTES !== undefined && config.MODEL_ROUTES_FILE !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['MODEL_ROUTES_FILE'],
        message: 'set MODEL_ROUTES or MODEL_ROUTES_FILE, not both',
      });
    }
    if (
      config.MODEL_ROUTES_SOURCE !== undefined &&
      (config.MODEL_ROUTES !== undefined || config.MODEL_ROUTES_FILE !== undefined)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['MODEL_ROUTES_SOURCE'],
        message: `${config.MODEL_ROUTES_SOURCE} applies only without MODEL_ROUTES and MODEL_ROUTES_FILE, which give this replica a table of its own; unset one or the other`,
      });
    }
    const every = config.DIRECTORY_SAMPLE_EVERY;
    if ((every & (every - 1)) !== 0) {
      context.addIssue({
        code: 'custom',
        path: ['DIRECTORY_SAMPLE_EVERY'],
        message: 'must be a power of two',
      });
    }
  });

export type RouterConfig = z.infer<typeof routerConfigSchema>;
/** What startRouter accepts: variable names to values, defaults filled in. */
export type RouterConfigInput = z.input<typeof routerConfigSchema>;

export function loadRouterConfig(environment: NodeJS.ProcessEnv = process.env): RouterConfig {
  return loadConfig('router', routerConfigSchema, environment);
}

/** Tier policies with the configured default budgets. */
export function tierPolicies(config: RouterConfig): TierPolicies {
  const budgets = config.TIER_TTFT_BUDGETS_MS;
  return Object.fromEntries(
    TIERS.map((tier) => [
      tier,
      {
        ...DEFAULT_TIER_POLICIES[tier],
        defaultTtftBudgetMs: budgets[tier] ?? DEFAULT_TIER_POLICIES[tier].defaultTtftBudgetMs,
      },
    ]),
  ) as unknown as TierPolicies;
}

/** The spill cost rule's knobs (ADR 0009). */
export function spillCostConfig(config: RouterConfig): SpillCostConfig {
  return {
    enabled: config.SPILL_COST_RULE === 'on',
    belowBudgetGainWeight: config.SPILL_COST_BELOW_BUDGET_GAIN_WEIGHT,
    coldFollowUpTurns: config.SPILL_COST_COLD_FOLLOW_UP_TURNS,
    cacheTurns: config.SPILL_COST_CACHE_TURNS,
  };
}

/** Nest log levels for LOG_LEVEL: that level and every more severe one. */
export function logLevels(config: RouterConfig): ('error' | 'warn' | 'log' | 'debug')[] {
  const order = ['error', 'warn', 'log', 'debug'] as const;
  return order.slice(0, order.indexOf(config.LOG_LEVEL) + 1);
}
