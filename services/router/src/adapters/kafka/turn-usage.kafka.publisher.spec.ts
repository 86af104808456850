import { context, trace, TraceFlags } from '@opentelemetry/api';
import { events } from '@spillway/contracts';
import { topics, type EncodedEvent, type EncodedEventPublisher } from '@spillway/messaging';
import { startTelemetry } from '@spillway/telemetry';
import { SILENT_LOG } from '../../application/log.port.js';
import type { TurnUsage } from '../../application/turn-usage.port.js';
import { KafkaTurnUsagePublisher } from './turn-usage.kafka.publisher.js';

startTelemetry({ serviceName: 'router-usage-spec', traceExporter: 'memory' });

function aUsage(turnId: string): TurnUsage {
  return {
    turnId,
    conversationId: `conversation-${turnId}`,
    tenantId: 'tenant-1',
    model: 'model-a',
    shardId: 'shard-a',
    priority: 'standard',
    usage: { promptTokens: 10, completionTokens: 16, totalTokens: 26, cachedPromptTokens: 4 },
    finishReason: 'stop',
    ttftMs: 3,
    durationMs: 9,
    failovers: 0,
    spilled: false,
    completedAtMs: 1_000,
  };
}

function aPublisher(options: { lingerMs?: number; maxBatch?: number; fail?: boolean } = {}) {
  const sent: EncodedEvent[][] = [];
  const kafka: EncodedEventPublisher = {
    publishEncoded: async (batch) => {
      sent.push([...batch]);
      if (options.fail) throw new Error('broker down');
    },
  };
  const publisher = new KafkaTurnUsagePublisher(kafka, topics.requests, SILENT_LOG, {
    source: '/spillway/router',
    lingerMs: options.lingerMs ?? 60_000,
    maxBatch: options.maxBatch ?? 100,
  });
  return { publisher, sent };
}

describe('KafkaTurnUsagePublisher', () => {
  it('sends the records of turns that end together in one request, one record per turn', async () => {
    const { publisher, sent } = aPublisher();
    publisher.record(aUsage('t1'));
    publisher.record(aUsage('t2'));
    publisher.record(aUsage('t3'));
    expect(sent).toHaveLength(0);

    await publisher.flush();

    expect(sent).toHaveLength(1);
    const batch = sent[0] ?? [];
    expect(batch.map((record) => record.id)).toEqual(['t1', 't2', 't3']);
    expect(batch.map((record) => record.key)).toEqual([
      'conversation-t1',
      'conversation-t2',
      'conversation-t3',
    ]);
    expect(batch[0]).toMatchObject({
      topic: topics.requests.name,
      type: topics.requests.codec.type,
      source: '/spillway/router',
    });
    const decoded = events.TurnUsageRecorded.decode(batch[0]?.data ?? new Uint8Array());
    expect(decoded).toMatchObject({
      turnId: 't1',
      tenantId: 'tenant-1',
      shardId: 'shard-a',
      ttftMs: 3,
      durationMs: 9,
      usage: { promptTokens: 10, completionTokens: 16, totalTokens: 26, cachedPromptTokens: 4 },
    });
  });

  it('sends a batch after the linger time without a flush', async () => {
    const { publisher, sent } = aPublisher({ lingerMs: 1 });
    publisher.record(aUsage('t1'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sent.map((batch) => batch.map((record) => record.id))).toEqual([['t1']]);
    await publisher.flush();
    expect(sent).toHaveLength(1);
  });

  it('sends a full batch at once', async () => {
    const { publisher, sent } = aPublisher({ maxBatch: 2 });
    for (const id of ['t1', 't2', 't3']) publisher.record(aUsage(id));
    expect(sent.map((batch) => batch.map((record) => record.id))).toEqual([['t1', 't2']]);
    await publisher.flush();
    expect(sent.map((batch) => batch.map((record) => record.id))).toEqual([['t1', 't2'], ['t3']]);
  });

  it("keeps each record's own turn trace", async () => {
    const { publisher, sent } = aPublisher();
    const traceIds = ['0af7651916cd43dd8448eb211c80319c', '4bf92f3577b34da6a3ce929d0e0e4736'];
    traceIds.forEach((traceId, i) => {
      const turn = trace.setSpanContext(context.active(), {
        traceId,
        spanId: `00f067aa0ba902b${i}`,
        traceFlags: TraceFlags.SAMPLED,
      });
      context.with(turn, () => publisher.record(aUsage(`t${i}`)));
    });
    await publisher.flush();
    expect(sent[0]?.map((record) => record.traceContext.traceparent)).toEqual([
      `00-${traceIds[0]}-00f067aa0ba902b0-01`,
      `00-${traceIds[1]}-00f067aa0ba902b1-01`,
    ]);
  });

  it('logs a failed send and does not throw', async () => {
    const { publisher, sent } = aPublisher({ fail: true });
    publisher.record(aUsage('t1'));
    await expect(publisher.flush()).resolves.toBeUndefined();
    expect(sent).toHaveLength(1);
  });
});
