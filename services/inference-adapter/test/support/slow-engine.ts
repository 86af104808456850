import { waitFor } from '@spillway/testing';
import { generateRequest, iterate, untilEnd, untilFirstDelta } from '../factories/turns.js';
import type { AdapterUnderTest } from './adapter-in-process.js';
import type { GpuSimProcess } from './gpu-sim-process.js';

/** gpu-sim slowed so a stream stays open while a test acts on it (~70 ms per token). */
export const SLOW = { mode: 'slow', factor: 1_000 } as const;

/**
 * The gRPC caller of a streaming turn goes away mid-stream: the adapter must cancel its engine
 * request (gpu-sim's running count drops back to 0) and free its stream slot, whatever the
 * transport to the engine.
 */
export async function expectEngineRequestCancelledWithCaller(
  sim: GpuSimProcess,
  shard: AdapterUnderTest,
): Promise<void> {
  await sim.setFault(SLOW);
  const caller = new AbortController();
  const stream = iterate(shard.client.generate(generateRequest(), { signal: caller.signal }));
  await untilFirstDelta(stream);
  expect(await sim.metric('vllm:num_requests_running')).toBe(1);
  caller.abort();
  await expect(untilEnd(stream)).rejects.toMatchObject({ name: 'AbortError' });
  await waitFor(async () => (await sim.metric('vllm:num_requests_running')) === 0, {
    description: 'gpu-sim running count back to 0',
  });
  await waitFor(() => shard.runtime.inFlight === 0, { description: 'the adapter slot freed' });
}

/** After a test: the engine's fault cleared and every request it was running finished. */
export async function settleEngine(sim: GpuSimProcess): Promise<void> {
  await sim.setFault({ mode: 'none' });
  await waitFor(async () => (await sim.metric('vllm:num_requests_running')) === 0, {
    description: 'gpu-sim idle',
  });
}
