import type { Admin } from 'kafkajs';
import type { TopicAdmin, TopicSpec } from '../ports.js';
import type { MessagingLogger } from '../logger.js';

export class KafkaTopicAdmin implements TopicAdmin {
  constructor(
    private readonly admin: Admin,
    private readonly logger: MessagingLogger,
  ) {}

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.name));
    await this.warnOnPartitionMismatch(specs.filter((spec) => existing.has(spec.name)));
    if (missing.length === 0) return;
    // Another process may create the same topic concurrently; kafkajs then returns false, which is
    // the outcome we want.
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const present = names.filter((name) => existing.has(name));
    if (present.length > 0) await this.admin.deleteTopics({ topics: present });
  }

  async listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async deleteConsumerGroups(groupIds: readonly string[]): Promise<void> {
    if (groupIds.length === 0) return;
    const known = new Set((await this.admin.listGroups()).groups.map((group) => group.groupId));
    const present = groupIds.filter((id) => known.has(id));
    if (present.length > 0) await this.admin.deleteGroups(present);
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }

  /**
   * Never repartitions an existing topic: that would move keys to other partitions and break
   * per-key order. A mismatch is an operator decision, so it is only reported.
   */
  private async warnOnPartitionMismatch(specs: readonly TopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const metadata = await this.admin.fetchTopicMetadata({
      topics: specs.map((spec) => spec.name),
    });
    for (const topic of metadata.topics) {
      const wanted = specs.find((spec) => spec.name === topic.name)?.partitions;
      if (wanted !== undefined && wanted !== topic.partitions.length) {
        this.logger.warn('topic exists with a different partition count; leaving it as it is', {
          topic: topic.name,
          partitions: topic.partitions.length,
          wanted,
        });
      }
    }
  }
}
