import { randomBytes } from 'node:crypto';

/** Where the local infrastructure listens (docs/CONVENTIONS.md); overridable for CI. */
export const testInfrastructure = {
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
  postgresUrl: process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
} as const;

/** Eight lower-case hex characters: unique enough per run, valid in topic, database and key names. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}
