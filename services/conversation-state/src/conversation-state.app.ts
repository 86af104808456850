import 'reflect-metadata';
import { type INestApplicationContext, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ServiceRuntime } from './adapters/runtime/service-runtime.js';
import type { ConversationStateConfig } from './config.js';
import { ConversationStateModule } from './conversation-state.module.js';

export interface RunningConversationState {
  readonly app: INestApplicationContext;
  /** The bound gRPC port. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the service (database created and migrated, outbox relay, gRPC) in this process; main.ts
 * and the integration tests both come through here.
 */
export async function startConversationState(
  config: ConversationStateConfig,
  options: { readonly logger?: false | LogLevel[] } = {},
): Promise<RunningConversationState> {
  const app = await NestFactory.createApplicationContext(
    ConversationStateModule.forConfig(config),
    {
      logger: options.logger ?? ['error', 'warn'],
      abortOnError: false,
    },
  );
  await app.init();
  const runtime = app.get(ServiceRuntime);
  return { app, port: runtime.port, close: () => app.close() };
}
