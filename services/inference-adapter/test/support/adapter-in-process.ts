import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { inference } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import { ShardLifecycle } from '../../src/adapters/nest/shard.lifecycle.js';
import { SHARD_RUNTIME, type ShardRuntime } from '../../src/application/shard-runtime.js';
import { loadInferenceAdapterConfig } from '../../src/config.js';
import { InferenceAdapterModule } from '../../src/inference-adapter.module.js';

export interface AdapterUnderTest {
  readonly app: INestApplicationContext;
  readonly address: string;
  readonly runtime: ShardRuntime;
  /** Errors stay nice-grpc ClientErrors, so tests see the gRPC status. */
  readonly client: GrpcClient<typeof inference.InferenceDefinition>;
  close(): Promise<void>;
}

/** One shard's adapter in this process (its gRPC server on an ephemeral port), as main.ts wires it. */
export async function startAdapter(
  env: Readonly<Record<string, string>>,
): Promise<AdapterUnderTest> {
  const config = loadInferenceAdapterConfig({
    SHARD_ID: 'shard-test-1',
    POOL: 'pool-test',
    MODEL: 'llama-3.1-8b',
    GRPC_PORT: '0',
    LOAD_REPORT_INTERVAL_MS: '200',
    SHUTDOWN_GRACE_MS: '2000',
    ...env,
  });
  const app = await NestFactory.createApplicationContext(InferenceAdapterModule.forRoot(config), {
    logger: ['error'],
  });
  await app.init();
  const address = `127.0.0.1:${app.get(ShardLifecycle).grpcPort}`;
  const client = createGrpcClient(inference.InferenceDefinition, address, {
    defaultDeadlineMs: 30_000,
    translateErrors: false,
  });
  return {
    app,
    address,
    runtime: app.get<ShardRuntime>(SHARD_RUNTIME),
    client,
    async close() {
      client.close();
      await app.close();
    },
  };
}
