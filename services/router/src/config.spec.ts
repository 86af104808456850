import { ConfigError } from '@spillway/config';
import { loadRouterConfig, logLevels, spillCostConfig, tierPolicies } from './config.js';

describe('router config', () => {
  it('has defaults for a development machine', () => {
    const config = loadRouterConfig({});
    expect(config).toMatchObject({
      GRPC_PORT: 50051,
      REGISTRY_ADDRESS: '127.0.0.1:50070',
      PLACEMENT_FILTERS: ['healthy', 'pool', 'has-headroom', 'same-zone-first'],
      PLACEMENT_SCORERS: {
        'prefix-overlap': 3,
        'predicted-ttft': 2,
        'least-load': 1,
        headroom: 1,
        zone: 1,
      },
      PLACEMENT_PICKER: { kind: 'max-score' },
      PLACEMENT_CANDIDATES: { mode: 'sampled', prefixHolders: 8, randomSamples: 8 },
    });
    expect(config.KAFKA_BROKERS).toBeUndefined();
    expect(logLevels(config)).toEqual(['error', 'warn', 'log']);
  });

  it('reads placement weights, the picker, tier budgets and brokers', () => {
    const config = loadRouterConfig({
      PLACEMENT_SCORERS: 'affinity=1, prefix-overlap=4',
      PLACEMENT_PICKER: 'power-of-two:4',
      PLACEMENT_CANDIDATES: 'all',
      TIER_TTFT_BUDGETS_MS: 'standard=750',
      KAFKA_BROKERS: '127.0.0.1:19092, 127.0.0.1:19093',
    });
    expect(config.PLACEMENT_SCORERS).toEqual({ affinity: 1, 'prefix-overlap': 4 });
    expect(config.PLACEMENT_PICKER).toEqual({ kind: 'power-of-two', topK: 4 });
    expect(config.PLACEMENT_CANDIDATES).toEqual({ mode: 'all' });
    expect(tierPolicies(config).standard.defaultTtftBudgetMs).toBe(750);
    expect(tierPolicies(config).batch.defaultTtftBudgetMs).toBe(30_000);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:19092', '127.0.0.1:19093']);
  });

  it('reads the spill cost rule’s knobs (ADR 0009), on by default', () => {
    // By default the recompute is charged to five more turns for the cache it throws away.
    expect(spillCostConfig(loadRouterConfig({}))).toEqual({
      enabled: true,
      belowBudgetGainWeight: 0,
      coldFollowUpTurns: 0,
      cacheTurns: 5,
    });
    const config = loadRouterConfig({
      SPILL_COST_RULE: 'off',
      SPILL_COST_BELOW_BUDGET_GAIN_WEIGHT: '0.5',
      SPILL_COST_COLD_FOLLOW_UP_TURNS: '2',
      SPILL_COST_CACHE_TURNS: '0.5',
      PREFILL_ATTENTION_MS_PER_MILLION_PAIRS: '0.95',
    });
    expect(spillCostConfig(config)).toEqual({
      enabled: false,
      belowBudgetGainWeight: 0.5,
      coldFollowUpTurns: 2,
      cacheTurns: 0.5,
    });
    expect(spillCostConfig(loadRouterConfig({ SPILL_COST_CACHE_TURNS: '0' }))).toMatchObject({
      cacheTurns: 0,
    });
    expect(() => loadRouterConfig({ SPILL_COST_CACHE_TURNS: '-1' })).toThrow(
      /SPILL_COST_CACHE_TURNS/,
    );
    expect(config.PREFILL_ATTENTION_MS_PER_MILLION_PAIRS).toBe(0.95);
    expect(() => loadRouterConfig({ SPILL_COST_BELOW_BUDGET_GAIN_WEIGHT: '2' })).toThrow(
      /SPILL_COST_BELOW_BUDGET_GAIN_WEIGHT/,
    );
  });

  it('names each bad variable', () => {
    const load = () =>
      loadRouterConfig({
        PLACEMENT_SCORERS: 'nearest=1',
        PLACEMENT_FILTERS: 'healthy,fastest',
        REGISTRY_ADDRESS: 'registry',
        DIRECTORY_SAMPLE_EVERY: '6',
        MODEL_ROUTES: '{}',
        MODEL_ROUTES_FILE: '/tmp/x.json',
      });
    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (error) {
      const message = (error as Error).message;
      for (const variable of ['PLACEMENT_SCORERS', 'PLACEMENT_FILTERS', 'REGISTRY_ADDRESS'])
        expect(message).toContain(variable);
    }
  });

  it('follows the shared table unless the replica is given one, and names a source that conflicts', () => {
    expect(loadRouterConfig({}).MODEL_ROUTES_SOURCE).toBeUndefined();
    expect(loadRouterConfig({ MODEL_ROUTES_SOURCE: 'derived' }).MODEL_ROUTES_SOURCE).toBe(
      'derived',
    );
    expect(() => loadRouterConfig({ MODEL_ROUTES_SOURCE: 'etcd' })).toThrow(/MODEL_ROUTES_SOURCE/);
    expect(() =>
      loadRouterConfig({ MODEL_ROUTES_SOURCE: 'registry', MODEL_ROUTES_FILE: '/tmp/routes.json' }),
    ).toThrow(/MODEL_ROUTES_SOURCE.*without MODEL_ROUTES and MODEL_ROUTES_FILE/s);
  });
});
