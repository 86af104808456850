import { isDomainError } from '@spillway/errors';
import {
  aDirectory,
  aShard,
  DEFAULT_LATENCY_MODEL,
  ShardQueues,
  type ShardDirectory,
} from '../../domain/index.js';
import { NO_METRICS } from '../router-metrics.port.js';
import { ShardLeftQueue, TurnAdmission } from './turn-admission.js';

function anAdmission(shards: ShardDirectory, capacity = 4) {
  let now = 10_000;
  const clock = { nowMs: () => now };
  const admission = new TurnAdmission({
    shards,
    queues: new ShardQueues(capacity),
    clock,
    latency: DEFAULT_LATENCY_MODEL,
    metrics: NO_METRICS,
  });
  return { admission, advance: (ms: number) => (now += ms) };
}

// A shard with two slots whose turns hold a slot for about a second: it starts two turns a second.
const twoSlots = () =>
  aDirectory(
    aShard({
      id: 'a',
      capacity: { maxInFlight: 2, kvCapacityTokens: 1_000_000 },
      load: { ttftMsP50: 100, itlMsP50: 3.5 },
    }),
  );

const aTurn = (turnId: string, budgetMs = 5_000, prefillMs = 0) => ({
  turnId,
  priority: 'standard' as const,
  budgetMs,
  prefillMs,
});

const never = new AbortController().signal;

describe('turn admission', () => {
  it('starts a turn at once while the shard has a free slot, and counts its stream', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);

    const lease = await admission.acquire('a', aTurn('t1'), never);

    expect(shards.get('a')?.load.inFlight).toBe(1);
    lease.release();
    lease.release();
    expect(shards.get('a')?.load.inFlight).toBe(0);
  });

  it('queues a turn while the shard is full and hands it the next free slot', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);
    const first = await admission.acquire('a', aTurn('t1'), never);
    await admission.acquire('a', aTurn('t2'), never);

    let granted = false;
    const waiting = admission.acquire('a', aTurn('t3'), never).then((lease) => {
      granted = true;
      return lease;
    });
    await Promise.resolve();
    expect(granted).toBe(false);
    expect(admission.queueDepths().get('a')).toBe(1);

    first.release();
    const lease = await waiting;
    expect(lease.shardId).toBe('a');
    expect(shards.get('a')?.load.inFlight).toBe(2);
    expect(admission.queueDepths().size).toBe(0);
  });

  it('refuses early, with a retry hint, a turn that could not start before its deadline', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);
    await admission.acquire('a', aTurn('t1'), never);
    await admission.acquire('a', aTurn('t2'), never);

    const refused = await admission.acquire('a', aTurn('t3', 10), never).catch((e: unknown) => e);

    expect(isDomainError(refused)).toBe(true);
    expect(refused).toMatchObject({
      code: 'DEADLINE.UNMEETABLE',
      details: { reason: 'deadline-unmeetable', shardId: 'a' },
    });
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('sheds a queued turn once the shard drains too slowly for its deadline', async () => {
    const shards = twoSlots();
    const { admission, advance } = anAdmission(shards);
    await admission.acquire('a', aTurn('t1'), never);
    await admission.acquire('a', aTurn('t2'), never);
    const waiting = admission.acquire('a', aTurn('t3', 2_000), never).catch((e: unknown) => e);

    // The next load report says the shard got a lot slower.
    admission.applyLoadReport(
      'a',
      { ...shards.get('a')!.load, itlMsP50: 500, ttftMsP50: 1_000, inFlight: 2 },
      [],
    );
    advance(100);
    admission.sweep();

    expect(await waiting).toMatchObject({
      code: 'DEADLINE.UNMEETABLE',
      details: { reason: 'deadline-pushed' },
    });
  });

  it('sheds to a full queue with ADMISSION.SHED', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards, 1);
    await admission.acquire('a', aTurn('t1'), never);
    await admission.acquire('a', aTurn('t2'), never);
    void admission.acquire('a', aTurn('t3'), never).catch(() => undefined);

    const refused = await admission.acquire('a', aTurn('t4'), never).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ADMISSION.SHED', details: { reason: 'queue-full' } });
  });

  it('adds the streams other replicas hold (from load reports) to its own', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);
    const mine = await admission.acquire('a', aTurn('t1'), never);

    // The shard reports two streams: ours and another replica's.
    admission.applyLoadReport('a', { ...shards.get('a')!.load, inFlight: 2 }, [7, 8]);
    expect(shards.get('a')?.load.inFlight).toBe(2);
    expect(shards.get('a')?.recentPrefixBlocks.has(7)).toBe(true);

    // Our release frees a slot at once, without waiting for the next report.
    mine.release();
    expect(shards.get('a')?.load.inFlight).toBe(1);
  });

  it('counts the prefill of its streams until their first token, through load reports', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);
    const first = await admission.acquire('a', aTurn('t1', 5_000, 300), never);
    const second = await admission.acquire('a', aTurn('t2', 5_000, 200), never);
    expect(shards.get('a')?.load.prefillBacklogMs).toBe(500);

    // A report knows nothing of it: the live count stays.
    admission.applyLoadReport('a', { ...shards.get('a')!.load, prefillBacklogMs: 0 }, []);
    expect(shards.get('a')?.load.prefillBacklogMs).toBe(500);

    first.prefilled();
    first.prefilled();
    expect(shards.get('a')?.load.prefillBacklogMs).toBe(200);
    first.release();
    expect(shards.get('a')?.load.prefillBacklogMs).toBe(200);
    // A stream that ends before its first token (failed, cancelled) takes its prefill with it.
    second.release();
    expect(shards.get('a')?.load.prefillBacklogMs).toBe(0);
  });

  it('sends waiting turns elsewhere when their shard stops taking turns', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);
    await admission.acquire('a', aTurn('t1'), never);
    await admission.acquire('a', aTurn('t2'), never);
    const waiting = admission.acquire('a', aTurn('t3'), never).catch((e: unknown) => e);

    admission.shardLeft('a');

    expect(await waiting).toBeInstanceOf(ShardLeftQueue);
    await expect(admission.acquire('b', aTurn('t4'), never)).rejects.toBeInstanceOf(ShardLeftQueue);
  });

  it('lets a cancelled turn leave the queue', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);
    const first = await admission.acquire('a', aTurn('t1'), never);
    await admission.acquire('a', aTurn('t2'), never);
    const controller = new AbortController();
    const waiting = admission.acquire('a', aTurn('t3'), controller.signal).catch((e: unknown) => e);

    controller.abort();

    expect(await waiting).toMatchObject({ name: 'AbortError' });
    first.release();
    expect(shards.get('a')?.load.inFlight).toBe(1);
  });

  it('opens a slot past the queue for a stream resuming mid-reply', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);
    await admission.acquire('a', aTurn('t1'), never);
    await admission.acquire('a', aTurn('t2'), never);

    admission.acquireNow('a', 0);

    expect(shards.get('a')?.load.inFlight).toBe(3);
    expect(admission.openStreamCount()).toBe(3);
  });
  it('counts the turns on a shard waiting for their first token, for the spill cost rule', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);
    const first = await admission.acquire('a', aTurn('t1'), never);
    await admission.acquire('a', aTurn('t2'), never);
    void admission.acquire('a', aTurn('t3'), never).catch(() => undefined);
    await Promise.resolve();
    // Two streams before their first token, one turn in the router's queue.
    expect(admission.turnsAwaitingFirstToken('a')).toBe(3);
    first.prefilled();
    expect(admission.turnsAwaitingFirstToken('a')).toBe(2);
    // Other replicas' turns: the engine's own queue at its last report, when it is longer.
    admission.applyLoadReport('a', { ...shards.get('a')!.load, inFlight: 2, waiting: 7 }, []);
    expect(admission.turnsAwaitingFirstToken('a')).toBe(7);
    expect(admission.turnsAwaitingFirstToken('elsewhere')).toBe(0);
  });

  it('tells, without queueing anything, whether it would refuse a turn on a shard', async () => {
    const shards = twoSlots();
    const { admission } = anAdmission(shards);
    const turn = { priority: 'standard' as const, budgetMs: 800, prefillMs: 100 };
    // A free slot: dispatched at once, whatever its budget.
    expect(admission.wouldRefuse('a', turn)).toBe(false);
    await admission.acquire('a', aTurn('t1'), never);
    await admission.acquire('a', aTurn('t2'), never);
    // Full: the next slot frees in about half a second (two slots, about a second each).
    expect(admission.wouldRefuse('a', turn)).toBe(false);
    expect(admission.wouldRefuse('a', { ...turn, prefillMs: 400 })).toBe(true);
    expect(admission.queueDepths().size).toBe(0);
    expect(admission.wouldRefuse('gone', turn)).toBe(true);
  });
});
