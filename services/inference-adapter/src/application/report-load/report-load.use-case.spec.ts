import type { common } from '@spillway/contracts';
import {
  ManualClock,
  readyRuntime,
  RecordingLog,
  ScriptedEngine,
} from '../../../test/fakes/fake-ports.js';
import type { LoadPublisherPort } from '../load-publisher.port.js';
import { ReportLoad } from './report-load.use-case.js';

class CollectingPublisher implements LoadPublisherPort {
  readonly reports: { shardId: string; pool: string; load: common.ShardLoad }[] = [];
  failing = false;
  async publish(shardId: string, pool: string, load: common.ShardLoad): Promise<void> {
    if (this.failing) throw new Error('brokers unreachable');
    this.reports.push({ shardId, pool, load });
  }
}

describe('ReportLoad', () => {
  it('probes the engine, scrapes its load and publishes the snapshot', async () => {
    const engine = new ScriptedEngine();
    engine.sample = { running: 3, waiting: 1, kvCacheUsage: 0.5 };
    const publisher = new CollectingPublisher();
    const runtime = readyRuntime();
    const report = new ReportLoad(
      runtime,
      engine,
      publisher,
      new RecordingLog(),
      new ManualClock(),
      1_000,
    );
    const load = await report.tick(new AbortController().signal);
    await new Promise((resolve) => setImmediate(resolve));
    expect(load).toMatchObject({
      runningRequests: 3,
      waitingRequests: 1,
      kvCacheUsage: 0.5,
      maxInFlightStreams: 2,
    });
    expect(publisher.reports).toEqual([{ shardId: 'shard-a1', pool: 'pool-8b', load }]);
  });

  it('marks the shard not serving when the engine stops answering, and logs a failing broker once', async () => {
    const engine = new ScriptedEngine();
    const publisher = new CollectingPublisher();
    publisher.failing = true;
    const log = new RecordingLog();
    const runtime = readyRuntime();
    const report = new ReportLoad(runtime, engine, publisher, log, new ManualClock(), 1_000);
    engine.health = {
      ready: false,
      detail: 'the engine at http://engine.test is unreachable (ECONNREFUSED)',
    };
    for (let i = 0; i < 3; i++) {
      await report.tick(new AbortController().signal);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(runtime.serving).toBe(false);
    expect(log.entries.filter((e) => e.message === 'engine not ready')).toHaveLength(1);
    expect(
      log.entries.filter((e) => e.message.startsWith('publishing the load report failed')),
    ).toHaveLength(1);
  });
});
