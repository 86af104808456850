// Started as `node --import @spillway/telemetry/register dist/main.js`: telemetry is already up.
import { loadConfigOrExit } from '@spillway/config';
import { nestReplicaLog, startShardMetadataReplica } from './bootstrap.js';
import { shardMetadataConfigSchema } from './config.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit('shard-metadata', shardMetadataConfigSchema);
  const log = nestReplicaLog();
  const service = startShardMetadataReplica(config, undefined, {
    ...log,
    // Start scripts and tests wait for these lines: a standby is up, a leader serves.
    standingBy: () => process.stdout.write('shard-metadata standing by: another instance leads\n'),
    leading: (host, port) => process.stdout.write(`shard-metadata listening on ${host}:${port}\n`),
  });
  service.firstTerm.catch((error: unknown) => {
    process.stderr.write(
      `shard-metadata failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  });
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
}

main().catch((error: unknown) => {
  process.stderr.write(
    `shard-metadata failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
