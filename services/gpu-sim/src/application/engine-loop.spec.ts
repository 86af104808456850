import { FakeScheduler, promptIds, testProfile } from '../../test/factories.js';
import { Engine } from '../domain/engine.js';
import { EngineLoop, type TokenSink } from './engine-loop.js';
import { EngineMetrics } from './engine-metrics.js';
import { FaultState } from './faults.js';

class RecordingSink implements TokenSink {
  readonly deliveries: { from: number; count: number; done: boolean; atMs: number }[] = [];
  constructor(private readonly clock: FakeScheduler) {}
  deliver(from: number, count: number, done: boolean): void {
    this.deliveries.push({ from, count, done, atMs: this.clock.now() });
  }
  get tokens(): number {
    return this.deliveries.reduce((n, d) => n + d.count, 0);
  }
  get done(): boolean {
    return this.deliveries.at(-1)?.done === true;
  }
}

function setup(
  timeScale: number,
  options: { frontendOverheadMs?: number; maxWritesPerSecond?: number } = {},
) {
  const clock = new FakeScheduler();
  // prefill 1 ms + 0.01 ms/token; decode 5 ms at batch 1 (+1 ms step overhead).
  const profile = testProfile();
  const engine = new Engine(profile);
  const metrics = new EngineMetrics(profile.scheduler.maxModelLen);
  const faults = new FaultState();
  const exits: number[] = [];
  const loop = new EngineLoop(
    engine,
    clock,
    metrics,
    faults,
    { exit: (code) => exits.push(code) },
    {
      timeScale,
      frontendOverheadMs: options.frontendOverheadMs ?? 0,
      ...(options.maxWritesPerSecond === undefined
        ? {}
        : { maxWritesPerSecond: options.maxWritesPerSecond }),
    },
  );
  return { clock, engine, metrics, faults, loop, exits };
}

const output = (n: number) => Array.from({ length: n }, (_, i) => 100 + i);

describe('EngineLoop', () => {
  it('delivers tokens in order at simulated step ends scaled to wall time', () => {
    const { clock, loop } = setup(1);
    const sink = new RecordingSink(clock);
    loop.submit({ id: 'a', promptTokenIds: promptIds(100), outputTokenIds: output(3) }, sink);
    clock.advance(1.9); // prefill step: 1 + 100 × 0.01 = 2 ms
    expect(sink.tokens).toBe(0);
    clock.advance(0.1);
    expect(sink.deliveries).toEqual([{ from: 0, count: 1, done: false, atMs: 2 }]);
    clock.advance(12); // two decode steps of 6 ms
    expect(sink.deliveries.map((d) => [d.from, d.atMs])).toEqual([
      [0, 2],
      [1, 8],
      [2, 14],
    ]);
    expect(sink.done).toBe(true);
  });

  it('scales every duration by the time scale and batches many steps into one timer callback', () => {
    const { clock, loop, metrics } = setup(0.001);
    const sink = new RecordingSink(clock);
    loop.submit({ id: 'a', promptTokenIds: promptIds(100), outputTokenIds: output(200) }, sink);
    // Simulated: 2 ms + 199 × 6 ms = 1196 ms; wall: 1.196 ms. Fire timers no more often than every 1 ms.
    for (let i = 0; i < 3; i++) clock.advance(1);
    expect(sink.tokens).toBe(200);
    expect(sink.done).toBe(true);
    expect(clock.timersCreated).toBeLessThan(10);
    expect(metrics.timeToFirstToken.sum).toBeCloseTo(0.002, 6);
    expect(metrics.interToken.count).toBe(199);
    expect(metrics.interToken.sum).toBeCloseTo(199 * 0.006, 6);
  });

  it('does not fall behind when callbacks run late: late steps are caught up, not lost', () => {
    const { clock, loop } = setup(1);
    const sink = new RecordingSink(clock);
    loop.submit({ id: 'a', promptTokenIds: promptIds(100), outputTokenIds: output(11) }, sink);
    clock.nowMs += 50; // the event loop was blocked for 50 ms
    clock.advance(0);
    // 2 + 10 × 6 = 62 ms simulated; 50 ms in, the first 9 tokens are due at once.
    expect(sink.tokens).toBe(9);
    expect(sink.deliveries).toHaveLength(1);
    clock.advance(12);
    expect(sink.tokens).toBe(11);
  });

  it('coalesces writes of flowing streams above the write-rate cap, never delaying first or last tokens', () => {
    // 100 writes/s for 2 running streams: a flowing stream is written at most every 20 ms.
    const { clock, loop, metrics } = setup(1, { maxWritesPerSecond: 100 });
    const a = new RecordingSink(clock);
    const b = new RecordingSink(clock);
    loop.submit({ id: 'a', promptTokenIds: promptIds(100), outputTokenIds: output(20) }, a);
    loop.submit({ id: 'b', promptTokenIds: promptIds(100), outputTokenIds: output(20) }, b);
    clock.advance(1000);
    for (const sink of [a, b]) {
      expect(sink.deliveries[0]).toMatchObject({ from: 0, count: 1 });
      expect(sink.tokens).toBe(20);
      expect(sink.done).toBe(true);
      expect(sink.deliveries.length).toBeLessThan(20);
      sink.deliveries.slice(1, -1).forEach((d, i, rest) => {
        if (i > 0) expect(d.atMs - rest[i - 1]!.atMs).toBeGreaterThanOrEqual(20);
      });
    }
    // Simulated timings are untouched by the write coalescing.
    expect(metrics.interToken.count).toBe(38);
  });

  it('adds the API-server latency before a request reaches the engine', () => {
    const { clock, loop, metrics } = setup(1, { frontendOverheadMs: 5 });
    const sink = new RecordingSink(clock);
    loop.submit({ id: 'a', promptTokenIds: promptIds(100), outputTokenIds: output(1) }, sink);
    clock.advance(6.9);
    expect(sink.tokens).toBe(0);
    clock.advance(0.1);
    expect(sink.tokens).toBe(1);
    expect(metrics.timeToFirstToken.sum).toBeCloseTo(0.007, 6);
  });

  it('abort stops delivery and frees the engine', () => {
    const { clock, loop, engine } = setup(1);
    const sink = new RecordingSink(clock);
    loop.submit({ id: 'a', promptTokenIds: promptIds(100), outputTokenIds: output(100) }, sink);
    clock.advance(20);
    expect(engine.numRunning).toBe(1);
    loop.abort('a');
    expect(engine.numRunning).toBe(0);
    const delivered = sink.tokens;
    clock.advance(100);
    expect(sink.tokens).toBe(delivered);
    expect(clock.pendingTimers).toBe(0);
  });

  it('hang stops stepping; clearing it resumes where the engine stopped', () => {
    const { clock, loop, faults } = setup(1);
    const sink = new RecordingSink(clock);
    loop.submit({ id: 'a', promptTokenIds: promptIds(100), outputTokenIds: output(10) }, sink);
    clock.advance(2);
    faults.set({ mode: 'hang' });
    clock.advance(1000);
    expect(sink.tokens).toBe(1);
    faults.set({ mode: 'none' });
    clock.advance(6);
    expect(sink.tokens).toBe(2);
  });

  it('slow multiplies step time', () => {
    const { clock, loop, faults } = setup(1);
    faults.set({ mode: 'slow', factor: 10 });
    const sink = new RecordingSink(clock);
    loop.submit({ id: 'a', promptTokenIds: promptIds(100), outputTokenIds: output(2) }, sink);
    clock.advance(19);
    expect(sink.tokens).toBe(0);
    clock.advance(1);
    expect(sink.tokens).toBe(1);
  });

  it('die exits once a stream has emitted the given number of tokens', () => {
    const { clock, loop, faults, exits } = setup(1);
    faults.set({ mode: 'die', afterTokens: 3 });
    const sink = new RecordingSink(clock);
    loop.submit({ id: 'a', promptTokenIds: promptIds(100), outputTokenIds: output(10) }, sink);
    clock.advance(100);
    expect(exits[0]).toBe(137);
    expect(sink.deliveries.reduce((n, d) => n + d.count, 0)).toBeGreaterThanOrEqual(3);
  });
});
