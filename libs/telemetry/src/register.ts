// Loaded with `node --import @spillway/telemetry/register` so the providers exist before Nest,
// grpc-js and kafkajs are imported.
import {
  startTelemetry,
  telemetryOptionsFromEnv,
  type TelemetryOptions,
} from './start-telemetry.js';

let options: TelemetryOptions;
try {
  options = telemetryOptionsFromEnv();
} catch (error) {
  // A bad variable stops start-up with its name, not a stack trace.
  process.stderr.write(`telemetry: invalid configuration: ${(error as Error).message}\n`);
  process.exit(78);
}
const telemetry = startTelemetry(options);

// Spans still in the batch processor would be lost on a normal exit.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    // A service with its own handler owns the exit (graceful shutdown); we only flush.
    const serviceHandlesSignal = process.listenerCount(signal) > 0;
    void telemetry.flush().finally(() => {
      if (!serviceHandlesSignal) process.exit(0);
    });
  });
}
