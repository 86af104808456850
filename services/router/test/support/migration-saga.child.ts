// The migration saga alone, as a process the crash test can SIGKILL: `node dist/.../migration-saga.child.js`.
import { startSaga } from './migration-saga.runner.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} must be set`);
  return value;
}

const stderrLog = {
  debug: () => undefined,
  info: (message: string, fields?: object) =>
    process.stderr.write(`info ${message} ${JSON.stringify(fields ?? {})}\n`),
  warn: (message: string, fields?: object) =>
    process.stderr.write(`warn ${message} ${JSON.stringify(fields ?? {})}\n`),
  error: (message: string, fields?: object) =>
    process.stderr.write(`error ${message} ${JSON.stringify(fields ?? {})}\n`),
};

const running = await startSaga({
  registryAddress: required('REGISTRY_ADDRESS'),
  conversationStoreAddress: required('CONVERSATION_STORE_ADDRESS'),
  kafkaBrokers: required('KAFKA_BROKERS').split(','),
  lifecycleTopic: required('SHARD_LIFECYCLE_TOPIC'),
  groupId: required('MIGRATION_GROUP_ID'),
  concurrency: Number(process.env.MIGRATION_CONCURRENCY ?? '16'),
  log: stderrLog,
});
process.stdout.write('migration saga ready\n');
process.on('SIGTERM', () => {
  void running.stop().then(() => process.exit(0));
});
