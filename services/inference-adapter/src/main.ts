// Started as `node --import @spillway/telemetry/register dist/main.js`: telemetry is already up.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@spillway/config';
import { inferenceAdapterConfigSchema } from './config.js';
import { InferenceAdapterModule } from './inference-adapter.module.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit('inference-adapter', inferenceAdapterConfigSchema);
  const app = await NestFactory.createApplicationContext(InferenceAdapterModule.forRoot(config), {
    logger: ['error', 'warn', 'log'],
  });
  app.enableShutdownHooks();
  await app.init();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `inference-adapter failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
