// Produce → consume round trip through @spillway/messaging on the local broker: a paced producer
// at RATE events/s for DURATION_MS, one consumer group in the same process, latency from just
// before publish() to the handler. Writes bench/results/kafka-roundtrip.json.
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { events } from '@spillway/contracts';
import { createKafkaMessaging, defineTopic, eventCodec, jsonLogger } from '@spillway/messaging';

const root = fileURLToPath(new URL('../..', import.meta.url));
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const rate = Number(process.env.RATE ?? 1_000);
const durationMs = Number(process.env.DURATION_MS ?? 10_000);
const drainTimeoutMs = Number(process.env.DRAIN_TIMEOUT_MS ?? 15_000);
const partitions = Number(process.env.PARTITIONS ?? 3);
const tickMs = 10;
const shards = 100;

const run = randomBytes(4).toString('hex');
const topic = defineTopic(`bench.${run}.load`, eventCodec('ShardLoadReported'));
const groupId = `bench.${run}.roundtrip`;
const messaging = createKafkaMessaging({
  brokers,
  clientId: 'bench-kafka-roundtrip',
  source: '/spillway/bench',
  logger: jsonLogger('warn', 'bench'),
  consumer: { maxWaitTimeMs: 100 },
});

function shardLoad(index: number): events.ShardLoadReported {
  return {
    shardId: `shard-${index % shards}`,
    pool: 'a100-80g',
    load: {
      runningRequests: index % 64,
      waitingRequests: index % 7,
      kvCacheUsage: 0.5,
      inFlightStreams: 10,
      maxInFlightStreams: 64,
      ttftMsP50: 180,
      itlMsP50: 22,
      queueTimeMsP50: 0,
      prefixCacheHitRatio: 0.4,
      observedAtMs: Date.now(),
      recentPrefixBlocks: [1, 2, 3, 4],
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return round(sorted[Math.max(0, index)] ?? NaN);
}

const round = (value: number): number => Math.round(value * 100) / 100;
const megabytes = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

const admin = await messaging.connectTopicAdmin();
await admin.ensureTopics([{ name: topic.name, partitions }]);
const publisher = await messaging.connectPublisher();

const sentAt = new Map<string, number>();
const latencies: number[] = [];
const subscriber = messaging
  .createSubscriber({ groupId, fromBeginning: true })
  .subscribe(topic, async ({ metadata }) => {
    const started = sentAt.get(metadata.id);
    if (started === undefined) return;
    latencies.push(performance.now() - started);
    sentAt.delete(metadata.id);
  });
await subscriber.start();

let peakRss = process.memoryUsage().rss;
const rssSampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 250);

let sent = 0;
let publishFailures = 0;
const pending = new Set<Promise<unknown>>();
const started = performance.now();
// Paced by elapsed time, not by awaiting each send: a slow acknowledgement must not lower the
// offered rate, or the latency figures would describe a gentler load than the one asked for.
while (performance.now() - started < durationMs) {
  const due = Math.floor(((performance.now() - started) * rate) / 1_000) - sent;
  if (due > 0) {
    const batch = Array.from({ length: due }, (_, i) => ({
      key: `shard-${(sent + i) % shards}`,
      event: shardLoad(sent + i),
      id: randomUUID(),
    }));
    const now = performance.now();
    for (const event of batch) sentAt.set(event.id, now);
    sent += due;
    const publishing = publisher.publish(topic, batch).catch(() => {
      publishFailures += batch.length;
    });
    pending.add(publishing);
    void publishing.finally(() => pending.delete(publishing));
  }
  await sleep(tickMs);
}
const producedMs = performance.now() - started;
await Promise.all(pending);

const drainStarted = performance.now();
while (
  latencies.length + publishFailures < sent &&
  performance.now() - drainStarted < drainTimeoutMs
)
  await sleep(20);
clearInterval(rssSampler);
const finalRss = process.memoryUsage().rss;

await subscriber.stop();
await publisher.close();
await admin.deleteTopics([topic.name]);
await admin.deleteConsumerGroups([groupId]);
await admin.close();

const sorted = [...latencies].sort((a, b) => a - b);
const report = {
  benchmark: 'kafka-roundtrip',
  node: process.version,
  brokers,
  partitions,
  offeredRatePerSecond: rate,
  durationMs: Math.round(producedMs),
  sent,
  delivered: latencies.length,
  publishFailures,
  undelivered: sent - latencies.length - publishFailures,
  achievedRatePerSecond: round((sent / producedMs) * 1_000),
  latencyMs: {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
    mean: round(sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length)),
  },
  rssMb: { peak: megabytes(peakRss), final: megabytes(finalRss) },
};
writeFileSync(`${root}bench/results/kafka-roundtrip.json`, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
