// Started as `node --import @spillway/telemetry/register dist/main.js`: telemetry is already up.
import 'reflect-metadata';
import { loadConfigOrExit } from '@spillway/config';
import { conversationStateConfigSchema } from './config.js';
import { startConversationState } from './conversation-state.app.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit('conversation-state', conversationStateConfigSchema);
  const running = await startConversationState(config);
  // The start script and tests wait for this line.
  process.stdout.write(`conversation-state listening on ${config.GRPC_HOST}:${running.port}\n`);
  // Stop taking calls, let in-flight ones and the relay's batch finish, close the pools, exit 0.
  // `on`, not `once`: the telemetry register exits as soon as no listener is left for the signal.
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`conversation-state failed to stop cleanly: ${String(error)}\n`);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `conversation-state failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
