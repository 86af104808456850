// Started as `node --import @spillway/telemetry/register dist/main.js`: telemetry is already up.
import { loadConfigOrExit } from '@spillway/config';
import { startShardMetadata } from './bootstrap.js';
import { shardMetadataConfigSchema } from './config.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit('shard-metadata', shardMetadataConfigSchema);
  const service = await startShardMetadata(config);
  // `on`, not `once`: telemetry's own handler exits as soon as no other listener is left.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      service.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(
            `shard-metadata: unclean shutdown: ${error instanceof Error ? error.stack : String(error)}\n`,
          );
          process.exit(1);
        },
      );
    });
  }
  // Start scripts and tests wait for this line.
  process.stdout.write(`shard-metadata listening on ${service.host}:${service.port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `shard-metadata failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
