import { ClientError, Status, createGrpcClient } from '@spillway/grpc';
import { freePort, waitFor } from '@spillway/testing';
import { HealthDefinition } from 'nice-grpc-server-health';
import {
  collectTurn,
  expectedReply,
  generateRequest,
  iterate,
  untilFirstDelta,
  type CollectedTurn,
} from './factories/turns.js';
import { startAdapter, type AdapterUnderTest } from './support/adapter-in-process.js';
import { startGpuSimProcess, type GpuSimProcess } from './support/gpu-sim-process.js';

// Engine failures as a shard's caller sees them, provoked with gpu-sim's fault injection.
const SHARD = 'shard-test-faults';
const HEALTH_NOT_SERVING = 2;

interface FailedTurn {
  readonly error: ClientError;
  readonly turn: CollectedTurn | undefined;
}

async function failedTurn(stream: AsyncIterable<unknown>): Promise<FailedTurn> {
  try {
    await collectTurn(stream as Parameters<typeof collectTurn>[0]);
  } catch (error) {
    if (error instanceof ClientError)
      return { error, turn: (error as ClientError & { turn?: CollectedTurn }).turn };
    throw error;
  }
  throw new Error('expected the turn to fail');
}

describe('inference adapter when the engine fails', () => {
  let sim: GpuSimProcess;
  let shard: AdapterUnderTest;

  beforeAll(async () => {
    sim = await startGpuSimProcess({ timeScale: 0.01 });
    shard = await startAdapter({
      SHARD_ID: SHARD,
      ENGINE_URL: sim.url,
      FIRST_TOKEN_TIMEOUT_MS: '1000',
      INTER_TOKEN_TIMEOUT_MS: '1000',
    });
  });
  afterEach(async () => {
    await sim.setFault({ mode: 'none' });
  });
  afterAll(async () => {
    await shard?.close();
    await sim?.stop();
  });

  it('cuts an engine that hangs before its first token at the deadline, naming the shard', async () => {
    await sim.setFault({ mode: 'hang' });
    const { error } = await failedTurn(shard.client.generate(generateRequest()));
    expect(error.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(error.details).toContain('ENGINE.TIMEOUT');
    expect(error.details).toContain(SHARD);
    expect(error.details).toContain('no token within 1000 ms');
  });

  it("honours the caller's deadline: the call ends DEADLINE_EXCEEDED and the engine request is cancelled", async () => {
    await sim.setFault({ mode: 'slow', factor: 1_000 });
    const deadlineMs = 400;
    const outcome = await collectTurn(
      shard.client.generate(generateRequest(), { deadline: deadlineMs }),
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(ClientError);
    expect(outcome).toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    await waitFor(async () => (await sim.metric('vllm:num_requests_running')) === 0, {
      description: 'gpu-sim running count back to 0',
    });
    await waitFor(() => shard.runtime.inFlight === 0, { description: 'the adapter slot freed' });
  });

  it('cuts an engine that hangs mid-stream at the inter-token deadline', async () => {
    await sim.setFault({ mode: 'slow', factor: 1_000 });
    const stream = iterate(shard.client.generate(generateRequest()));
    await untilFirstDelta(stream);
    await sim.setFault({ mode: 'hang' });
    const { error } = await failedTurn({ [Symbol.asyncIterator]: () => stream });
    expect(error.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(error.details).toContain(SHARD);
    expect(error.details).toContain('stalled for 1000 ms');
  });

  it('reports malformed engine output as ENGINE.BAD_RESPONSE, saying what was malformed', async () => {
    await sim.setFault({ mode: 'malformed', afterTokens: 3 });
    const request = generateRequest();
    const { error, turn } = await failedTurn(shard.client.generate(request));
    expect(error.code).toBe(Status.UNKNOWN);
    expect(error.details).toContain('ENGINE.BAD_RESPONSE');
    expect(error.details).toContain(SHARD);
    expect(error.details).toMatch(/stream event #\d+ is not JSON/);
    // The three good tokens before the bad event still arrived.
    expect(turn?.text).toBe(expectedReply(request).tokens.slice(0, 3).join(''));
  });

  it('passes an engine error answer on as retryable UNAVAILABLE', async () => {
    await sim.setFault({ mode: 'error', status: 503 });
    const { error } = await failedTurn(shard.client.generate(generateRequest()));
    expect(error.code).toBe(Status.UNAVAILABLE);
    expect(error.details).toContain('SHARD.UNAVAILABLE');
    expect(error.details).toContain('HTTP 503');
  });

  it('ends the stream with UNAVAILABLE naming the shard when the engine dies mid-stream', async () => {
    const doomed = await startGpuSimProcess({ timeScale: 0.01 });
    const adapter = await startAdapter({ SHARD_ID: 'shard-test-dies', ENGINE_URL: doomed.url });
    try {
      await doomed.setFault({ mode: 'die', afterTokens: 5 });
      const { error, turn } = await failedTurn(adapter.client.generate(generateRequest()));
      expect(error.code).toBe(Status.UNAVAILABLE);
      expect(error.details).toContain('SHARD.UNAVAILABLE');
      expect(error.details).toContain('shard-test-dies');
      expect(turn?.started?.shardId).toBe('shard-test-dies');
      expect(await doomed.process.exited).toMatchObject({ code: 137 });
      // The next probe finds the engine gone; the shard stops claiming to serve.
      await waitFor(async () => !(await adapter.client.getLoad({})).ready, {
        description: 'the shard reports its engine not ready',
      });
    } finally {
      await adapter.close();
      await doomed.stop();
    }
  });

  it('starts without a reachable engine, unready, and says why', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const orphan = await startAdapter({ SHARD_ID: 'shard-test-orphan', ENGINE_URL: nowhere });
    const health = createGrpcClient(HealthDefinition, orphan.address, {
      defaultDeadlineMs: 5_000,
      translateErrors: false,
    });
    try {
      expect(await orphan.client.getLoad({})).toMatchObject({
        shardId: 'shard-test-orphan',
        ready: false,
        draining: false,
      });
      expect((await health.check({ service: 'spillway.inference.v1.Inference' })).status).toBe(
        HEALTH_NOT_SERVING,
      );
      const { error } = await failedTurn(orphan.client.generate(generateRequest()));
      expect(error.code).toBe(Status.UNAVAILABLE);
      expect(error.details).toContain('shard-test-orphan');
      expect(error.details).toContain(`the engine at ${nowhere} is unreachable`);
    } finally {
      health.close();
      await orphan.close();
    }
  });
});
