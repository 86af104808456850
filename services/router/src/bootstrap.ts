import 'reflect-metadata';
import { type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ReloadOutcome } from './adapters/config/model-routes.source.js';
import type { RouterConfig } from './config.js';
import { RouterModule } from './router.module.js';
import { RouterRuntime } from './router.runtime.js';

export interface RunningRouter {
  readonly host: string;
  readonly port: number;
  /** Re-reads the model routes (what SIGHUP does); the next turn follows the new table. */
  reloadModelRoutes(): ReloadOutcome;
  /** Graceful: in-flight turns finish (up to SHUTDOWN_GRACE_MS), then watches and clients close. */
  close(): Promise<void>;
}

/** Starts the router in this process: main.ts, benchmarks and in-process tests share it. */
export async function startRouter(
  config: RouterConfig,
  logLevels: LogLevel[] = ['error', 'warn', 'log'],
): Promise<RunningRouter> {
  const app = await NestFactory.createApplicationContext(RouterModule.forConfig(config), {
    logger: logLevels,
  });
  const runtime = app.get(RouterRuntime);
  let closing: Promise<void> | undefined;
  return {
    host: config.GRPC_HOST,
    port: runtime.port,
    reloadModelRoutes: () => runtime.reloadModelRoutes(),
    close: () => (closing ??= app.close()),
  };
}
