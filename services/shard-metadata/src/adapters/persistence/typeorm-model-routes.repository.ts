import type { ModelRouteTable } from '@spillway/model-routes';
import type { DataSource } from 'typeorm';
import type {
  ModelRoutesRepository,
  ReplaceModelRoutesResult,
} from '../../application/ports/model-routes.repository.port.js';
import {
  NO_SHARED_ROUTES,
  type ReplaceModelRoutes,
  type SharedModelRoutes,
} from '../../domain/model-routes.js';
import { againstDatabase } from './database-unavailable.js';
import { fencedWrite, storedTerm, termHolds, type LeaderTerm } from './leader-term.js';
import { ModelRoutesEntity } from './model-routes.entity.js';

const ROW = 1;

/**
 * The shared model routes in PostgreSQL, one row. Compare-and-set is one statement, so the
 * database decides races: an upsert that bumps the generation for "whatever is stored", `UPDATE …
 * WHERE generation = expected` otherwise, each only while this instance's leader term holds
 * (leader-term.ts). Only when it did not apply are the term and the row read again.
 */
export class TypeOrmModelRoutesRepository implements ModelRoutesRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly term: LeaderTerm,
  ) {}

  load(): Promise<SharedModelRoutes> {
    return againstDatabase('load model routes', () => this.read());
  }

  compareAndSet(request: ReplaceModelRoutes, nowMs: number): Promise<ReplaceModelRoutesResult> {
    return againstDatabase('replace model routes', async () => {
      const written =
        request.expectedGeneration === 0
          ? await this.replaceWhateverIsStored(request, nowMs)
          : await this.replaceIfGeneration(request, nowMs);
      if (written) return { applied: true, current: written };
      const term = await storedTerm(this.dataSource);
      if (term !== this.term.term) throw fencedWrite('replace model routes', this.term, term);
      return { applied: false, current: await this.read() };
    });
  }

  private async read(): Promise<SharedModelRoutes> {
    const row = await this.dataSource.getRepository(ModelRoutesEntity).findOneBy({ id: ROW });
    return row ? toRoutes(row) : NO_SHARED_ROUTES;
  }

  private async replaceWhateverIsStored(
    request: ReplaceModelRoutes,
    nowMs: number,
  ): Promise<SharedModelRoutes | undefined> {
    const rows: unknown = await this.dataSource.query(
      `INSERT INTO model_routes (id, route_table, generation, updated_at_ms, reason)
       SELECT $1, $2::jsonb, 1, $3, $4 WHERE ${termHolds(5)}
       ON CONFLICT (id) DO UPDATE SET
         route_table = EXCLUDED.route_table,
         generation = model_routes.generation + 1,
         updated_at_ms = EXCLUDED.updated_at_ms,
         reason = EXCLUDED.reason
       RETURNING *`,
      [ROW, JSON.stringify(request.table), nowMs, request.reason, this.term.term],
    );
    return firstRow(rows);
  }

  private async replaceIfGeneration(
    request: ReplaceModelRoutes,
    nowMs: number,
  ): Promise<SharedModelRoutes | undefined> {
    // pg answers an UPDATE … RETURNING with [rows, count].
    const [rows]: [unknown, number] = await this.dataSource.query(
      `UPDATE model_routes
       SET route_table = $2, generation = generation + 1, updated_at_ms = $3, reason = $4
       WHERE id = $1 AND generation = $5 AND ${termHolds(6)}
       RETURNING *`,
      [
        ROW,
        JSON.stringify(request.table),
        nowMs,
        request.reason,
        request.expectedGeneration,
        this.term.term,
      ],
    );
    return firstRow(rows);
  }
}

interface ModelRoutesRow {
  readonly route_table: ModelRouteTable;
  readonly generation: string | number;
  readonly updated_at_ms: string | number;
  readonly reason: string;
}

/** Raw rows come back with column names and int8 as strings. */
function firstRow(raw: unknown): SharedModelRoutes | undefined {
  const row = Array.isArray(raw) ? (raw[0] as ModelRoutesRow | undefined) : undefined;
  if (!row) return undefined;
  return {
    table: row.route_table,
    generation: Number(row.generation),
    updatedAtMs: Number(row.updated_at_ms),
    reason: row.reason,
  };
}

function toRoutes(row: ModelRoutesEntity): SharedModelRoutes {
  return {
    table: row.routeTable,
    generation: row.generation,
    updatedAtMs: row.updatedAtMs,
    reason: row.reason,
  };
}
