import 'reflect-metadata';
import { type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ShardMetadataConfig } from './config.js';
import { ShardMetadataModule } from './shard-metadata.module.js';
import { ShardMetadataRuntime } from './shard-metadata.runtime.js';

export interface RunningShardMetadata {
  readonly host: string;
  readonly port: number;
  /** Graceful: watchers are told to reconnect, in-flight calls finish, the outbox relay drains. */
  close(): Promise<void>;
}

/** Starts the service in this process: main.ts and in-process integration tests share it. */
export async function startShardMetadata(
  config: ShardMetadataConfig,
  logLevels: LogLevel[] = ['error', 'warn', 'log'],
): Promise<RunningShardMetadata> {
  const app = await NestFactory.createApplicationContext(ShardMetadataModule.forConfig(config), {
    logger: logLevels,
  });
  const runtime = app.get(ShardMetadataRuntime);
  let closing: Promise<void> | undefined;
  return {
    host: config.GRPC_HOST,
    port: runtime.port,
    close: () => (closing ??= app.close()),
  };
}
