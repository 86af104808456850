import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint-transformer.js';

/** A shard as stored: its spec and lifecycle state. Load and heartbeats live in memory only. */
@Entity({ name: 'shards' })
export class ShardEntity {
  @PrimaryColumn({ name: 'shard_id', type: 'text' })
  shardId!: string;

  @Column({ type: 'text' })
  pool!: string;

  @Column({ type: 'text' })
  model!: string;

  @Column({ name: 'model_version', type: 'text' })
  modelVersion!: string;

  @Column({ type: 'text' })
  zone!: string;

  @Column({ type: 'text' })
  endpoint!: string;

  @Column({ type: 'text' })
  state!: string;

  @Column({ name: 'max_in_flight_streams', type: 'integer' })
  maxInFlightStreams!: number;

  @Column({ name: 'kv_capacity_tokens', type: 'bigint', transformer: bigintAsNumber })
  kvCapacityTokens!: number;

  @Column({ name: 'hardware_profile', type: 'text' })
  hardwareProfile!: string;

  @Column({ name: 'cost_per_hour', type: 'double precision' })
  costPerHour!: number;

  @Column({ name: 'last_heartbeat_at_ms', type: 'bigint', transformer: bigintAsNumber })
  lastHeartbeatAtMs!: number;

  @Column({ name: 'registered_at_ms', type: 'bigint', transformer: bigintAsNumber })
  registeredAtMs!: number;
}
