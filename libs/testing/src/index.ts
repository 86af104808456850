// @spillway/testing: private, cleaned-up slices of the real infrastructure for integration tests.
export { testInfrastructure, uniqueSuffix } from './infrastructure.js';
export { createTestTopics, type TestTopics, type TestTopicsOptions } from './kafka-topics.js';
export {
  createTestDatabase,
  createTestSchema,
  type TestDatabase,
  type TestDatabaseOptions,
  type TestSchema,
} from './postgres-database.js';
export { redisKeyPrefix, type RedisKeyPrefix } from './redis-prefix.js';
export {
  startChildProcess,
  stopAllChildProcesses,
  type ChildExit,
  type ChildProcessHandle,
  type ChildProcessOptions,
  type ReadyCheck,
} from './child-process.js';
export { waitFor, type WaitForOptions } from './wait-for.js';
export { freePort } from './free-port.js';
export { httpRequest, type HttpReply, type HttpTarget } from './http-request.js';
export * from './otlp-collector.js';
export {
  startPrivatePostgres,
  type PostgresStopMode,
  type PrivatePostgres,
  type PrivatePostgresOptions,
} from './private-postgres.js';
export {
  startPrivateKafka,
  type KafkaStopMode,
  type PrivateKafka,
  type PrivateKafkaOptions,
} from './private-kafka.js';
export {
  testChildEnvironment,
  TEST_CHILD_VARIABLE,
  TEST_RUN_VARIABLE,
} from './leftover-processes.js';
export { repositoryRoot, serviceCommand, type SpillwayService } from './service-process.js';
