import { DataSource } from 'typeorm';
import { AssignmentEntity } from './assignment.entity.js';
import { CreateShardRegistry1763830000000 } from './migrations/1763830000000-create-shard-registry.js';
import { CreateModelRoutes1764300000000 } from './migrations/1764300000000-create-model-routes.js';
import { CreateRegistryTerm1764400000000 } from './migrations/1764400000000-create-registry-term.js';
import { ModelRoutesEntity } from './model-routes.entity.js';
import { ShardEntity } from './shard.entity.js';

export interface DataSourceOptions {
  readonly url: string;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  /**
   * The pool's application_name: POOL_APPLICATION_NAME_PREFIX and an id of this term, so that a
   * new leader can end this pool's backends (leader-term.ts) and spare its own.
   */
  readonly applicationName: string;
}

/** The schema comes from migrations, never from `synchronize`. */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: [ShardEntity, AssignmentEntity, ModelRoutesEntity],
    migrations: [
      CreateShardRegistry1763830000000,
      CreateModelRoutes1764300000000,
      CreateRegistryTerm1764400000000,
    ],
    migrationsTableName: 'shard_metadata_migrations',
    synchronize: false,
    poolSize: options.poolSize,
    connectTimeoutMS: options.connectTimeoutMs,
    applicationName: options.applicationName,
  });
}

/** Connects and brings the schema up to date; several instances starting at once are serialised. */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await createDataSource(options).initialize();
  try {
    await dataSource.runMigrations({ transaction: 'all' });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}
