// Started as `node --import @spillway/telemetry/register dist/main.js`: telemetry is already up.
import 'reflect-metadata';
import { loadConfigOrExit } from '@spillway/config';
import { gatewayConfigSchema } from './config.js';
import { connectDependencies, createGatewayApp } from './gateway.app.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit('gateway', gatewayConfigSchema);
  const deps = await connectDependencies(config);
  const app = await createGatewayApp(deps);
  app.enableShutdownHooks();
  await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.GATEWAY_PORT;
  // The start script and tests wait for this line.
  process.stdout.write(`gateway listening on http://${config.GATEWAY_HOST}:${port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
