import {
  createKafkaMessaging,
  silentLogger,
  type MessagingLogger,
  type TopicAdmin,
} from '@spillway/messaging';
import { testInfrastructure, uniqueSuffix } from './infrastructure.js';

export interface TestTopicsOptions {
  /** First segment of every name; default `test`. */
  readonly prefix?: string;
  readonly brokers?: readonly string[];
  readonly logger?: MessagingLogger;
}

export interface TestTopics<K extends string> {
  /** Logical name → real topic name, e.g. `load` → `test.3f9a0c1e.load`. */
  readonly names: Readonly<Record<K, string>>;
  readonly admin: TopicAdmin;
  /** A consumer group id unique to this run; cleanup() deletes the group. */
  groupId(label?: string): string;
  /** Deletes the topics and groups and closes the admin client. Stop consumers first. */
  cleanup(): Promise<void>;
}

/**
 * Creates private topics on the real broker, e.g. `createTestTopics({ load: 3 })` for one topic
 * with three partitions, so parallel suites never see each other's records.
 */
export async function createTestTopics<K extends string>(
  partitions: Readonly<Record<K, number>>,
  options: TestTopicsOptions = {},
): Promise<TestTopics<K>> {
  const run = `${options.prefix ?? 'test'}.${uniqueSuffix()}`;
  const admin = await createKafkaMessaging({
    brokers: options.brokers ?? testInfrastructure.kafkaBrokers,
    clientId: 'spillway-testing',
    source: '/spillway/testing',
    logger: options.logger ?? silentLogger,
  }).connectTopicAdmin();
  const entries = Object.entries<number>(partitions);
  const names = Object.fromEntries(entries.map(([name]) => [name, `${run}.${name}`])) as Record<
    K,
    string
  >;
  const groups: string[] = [];
  try {
    await admin.ensureTopics(
      entries.map(([name, count]) => ({ name: `${run}.${name}`, partitions: count })),
    );
  } catch (error) {
    await admin.close();
    throw error;
  }
  return {
    names,
    admin,
    groupId: (label = 'group') => {
      const id = `${run}.${label}.${groups.length}`;
      groups.push(id);
      return id;
    },
    cleanup: async () => {
      try {
        await admin.deleteConsumerGroups(groups);
        await admin.deleteTopics(Object.values(names));
      } finally {
        await admin.close();
      }
    },
  };
}
