import type { ModelRouteTable } from '@spillway/model-routes';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint-transformer.js';

/** The shared model routes: the only row has id 1. */
@Entity({ name: 'model_routes' })
export class ModelRoutesEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ name: 'route_table', type: 'jsonb' })
  routeTable!: ModelRouteTable;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  generation!: number;

  @Column({ name: 'updated_at_ms', type: 'bigint', transformer: bigintAsNumber })
  updatedAtMs!: number;

  @Column({ type: 'text' })
  reason!: string;
}
