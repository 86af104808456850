import { readFileSync } from 'node:fs';
import { describeRouteProblem, validateModelRoutes } from '@spillway/model-routes';
import { z } from 'zod';
import type {
  LogPort,
  ModelRoutesSnapshot,
  ModelRoutesStore,
  ModelRoutesSwap,
  ShardLifecycleObserver,
  ShardStateChange,
} from '../../application/index.js';
import {
  deriveModelRoutes,
  type ModelRouteTable,
  type ShardDirectory,
} from '../../domain/index.js';

const tableSchema = z.object({
  models: z.record(
    z.string().min(1),
    z.object({
      pools: z.array(z.object({ pool: z.string(), weight: z.number() })).min(1),
      shadow: z.object({ pool: z.string().min(1), sampleRate: z.number() }).optional(),
    }),
  ),
});

/**
 * Where a replica's own table comes from: inline JSON (MODEL_ROUTES) or a file (MODEL_ROUTES_FILE).
 * (The table every replica shares is SharedModelRoutesSource's.)
 */
export type ModelRoutesOrigin =
  | { readonly kind: 'inline'; readonly json: string }
  | { readonly kind: 'file'; readonly path: string }
  /** Nothing configured: every model the shards serve, over all of its pools, equally. */
  | { readonly kind: 'derived' };

export type ReloadOutcome =
  | { readonly ok: true; readonly table: ModelRouteTable; readonly generation: number }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Parses and validates a table; every problem is named. */
export function parseModelRoutes(json: string): ReloadOutcome {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    return { ok: false, problems: [`not JSON: ${(error as Error).message}`] };
  }
  const parsed = tableSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      ),
    };
  }
  const table: ModelRouteTable = parsed.data;
  const problems = validateModelRoutes(table);
  return problems.length > 0
    ? { ok: false, problems: problems.map(describeRouteProblem) }
    : { ok: true, table, generation: 0 };
}

/**
 * This replica's own model → pools table (canary weights, shadow pool). A rollback is an edit of
 * the file followed by SIGHUP (or `reload()`), or a `swap()` through the admin API: the table is
 * swapped whole and the very next turn follows it, because routing is a pure function of (table,
 * model, conversation). A bad edit is refused and the table in force stays. A reload re-reads the
 * configured source, replacing a table the admin API swapped in. Other replicas are not told:
 * with several replicas, share the table through the registry (SharedModelRoutesSource).
 */
export class ModelRoutesSource implements ModelRoutesStore, ShardLifecycleObserver {
  private table: ModelRouteTable = { models: {} };
  private generation = 0;
  private derivedStale = true;
  /** Set by swap(): the table came from the admin API, not from the configured source. */
  private swappedIn = false;

  constructor(
    private readonly origin: ModelRoutesOrigin,
    private readonly shards: ShardDirectory,
    private readonly log: LogPort,
  ) {}

  /** Loads the table at start-up; throws naming every problem (a bad table stops the router). */
  load(): ModelRouteTable {
    const outcome = this.read();
    if (!outcome.ok)
      throw new Error(`model routes (${this.describe()}): ${outcome.problems.join('; ')}`);
    return outcome.table;
  }

  /** Re-reads the source and swaps the table in, or keeps the current one if the new is bad. */
  reload(): ReloadOutcome {
    const outcome = this.read();
    if (outcome.ok) {
      this.log.info('model routes reloaded', {
        source: this.describe(),
        generation: outcome.generation,
        models: Object.keys(outcome.table.models).join(','),
      });
    } else {
      this.log.error('model routes not reloaded: the new table is invalid; keeping the old one', {
        source: this.describe(),
        problems: outcome.problems.join('; '),
      });
    }
    return outcome;
  }

  current(): ModelRouteTable {
    if (this.origin.kind === 'derived' && !this.swappedIn && this.derivedStale) {
      this.table = deriveModelRoutes(this.shards);
      this.derivedStale = false;
    }
    return this.table;
  }

  snapshot(): ModelRoutesSnapshot {
    return {
      table: this.current(),
      generation: this.generation,
      source: this.swappedIn ? 'admin' : this.describe(),
    };
  }

  async swap(table: ModelRouteTable, expectedGeneration: number): Promise<ModelRoutesSwap> {
    if (expectedGeneration !== 0 && expectedGeneration !== this.generation)
      return { kind: 'stale-generation', current: this.generation };
    this.table = table;
    this.swappedIn = true;
    this.generation++;
    this.log.info('model routes replaced', {
      source: 'admin',
      generation: this.generation,
      models: Object.keys(table.models).join(','),
    });
    return { kind: 'swapped', snapshot: this.snapshot() };
  }

  shardChanged(_change: ShardStateChange): void {
    this.derivedStale = true;
  }

  private read(): ReloadOutcome {
    const outcome = this.readOrigin();
    if (outcome.ok) this.swappedIn = false;
    return outcome;
  }

  private readOrigin(): ReloadOutcome {
    let json: string;
    switch (this.origin.kind) {
      case 'derived':
        this.derivedStale = true;
        this.swappedIn = false;
        return { ok: true, table: this.current(), generation: ++this.generation };
      case 'inline':
        json = this.origin.json;
        break;
      case 'file':
        try {
          json = readFileSync(this.origin.path, 'utf8');
        } catch (error) {
          return { ok: false, problems: [`cannot read: ${(error as Error).message}`] };
        }
        break;
      default: {
        const unknown: never = this.origin;
        throw new Error(`unknown model routes origin ${JSON.stringify(unknown)}`);
      }
    }
    const outcome = parseModelRoutes(json);
    if (!outcome.ok) return outcome;
    this.table = outcome.table;
    return { ...outcome, generation: ++this.generation };
  }

  private describe(): string {
    switch (this.origin.kind) {
      case 'inline':
        return 'MODEL_ROUTES';
      case 'file':
        return this.origin.path;
      case 'derived':
        return 'the shard registry';
      default: {
        const unknown: never = this.origin;
        return String(unknown);
      }
    }
  }
}
