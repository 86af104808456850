// Started as `node --import @spillway/telemetry/register dist/main.js`: telemetry is already up.
import { loadConfigOrExit } from '@spillway/config';
import { startRouter } from './bootstrap.js';
import { logLevels, routerConfigSchema } from './config.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit('router', routerConfigSchema);
  const router = await startRouter(config, logLevels(config));
  // `on`, not `once`: telemetry's own handler exits as soon as no other listener is left.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      router.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(
            `router: unclean shutdown: ${error instanceof Error ? error.stack : String(error)}\n`,
          );
          process.exit(1);
        },
      );
    });
  }
  // A rollback: edit MODEL_ROUTES_FILE, then `kill -HUP <pid>`; the next turn follows.
  process.on('SIGHUP', () => {
    router.reloadModelRoutes();
  });
  // Start scripts and tests wait for this line.
  process.stdout.write(`router listening on ${router.host}:${router.port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `router failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
