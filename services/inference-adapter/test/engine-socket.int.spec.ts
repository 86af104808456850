import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { common } from '@spillway/contracts';
import { ClientError, Status } from '@spillway/grpc';
import { startTelemetry } from '@spillway/telemetry';
import { waitFor } from '@spillway/testing';
import {
  collectTurn,
  expectedReply,
  generateRequest,
  iterate,
  untilEnd,
  untilFirstDelta,
} from './factories/turns.js';
import { startAdapter, type AdapterUnderTest } from './support/adapter-in-process.js';
import {
  expectEngineRequestCancelledWithCaller,
  settleEngine,
  SLOW,
} from './support/slow-engine.js';
import { startGpuSimProcess, type GpuSimProcess } from './support/gpu-sim-process.js';

// The adapter beside its engine, talking to it over a Unix domain socket (ENGINE_URL=unix:/path,
// the engine started with --uds as vLLM's is): the real simulator as a child process.
const telemetry = startTelemetry({ serviceName: 'inference-adapter', traceExporter: 'memory' });

describe('inference adapter with its engine on a Unix domain socket', () => {
  const socketDir = mkdtempSync(join(tmpdir(), 'adapter-uds-'));
  const socketPath = join(socketDir, 'engine.sock');
  let sim: GpuSimProcess;
  let shard: AdapterUnderTest;

  beforeAll(async () => {
    sim = await startGpuSimProcess({ timeScale: 0.01, socketPath });
    shard = await startAdapter({ ENGINE_URL: sim.url, ENGINE_KIND: 'vllm' });
  });
  afterEach(() => settleEngine(sim));
  afterAll(async () => {
    await shard?.close();
    await sim?.stop();
    await telemetry.shutdown();
    rmSync(socketDir, { recursive: true, force: true });
  });

  it('streams gpu-sim deterministic reply through the socket, and its span names the socket', async () => {
    expect(sim.url).toBe(`unix:${socketPath}`);
    telemetry.memoryExporter?.reset();
    const request = generateRequest({ sampling: { seed: 42, maxTokens: 24, stop: [] } });
    const expected = expectedReply(request);
    const turn = await collectTurn(shard.client.generate(request));
    expect(turn.started?.promptTokens).toBe(expected.promptTokenIds.length);
    expect(turn.text).toBe(expected.text);
    expect(turn.completed).toMatchObject({
      finishReason: common.FinishReason.FINISH_REASON_LENGTH,
      usage: { completionTokens: 24 },
    });
    const client = await waitFor(
      () =>
        (telemetry.memoryExporter?.getFinishedSpans() ?? []).find(
          (s) => s.kind === SpanKind.CLIENT && s.name === 'POST /v1/chat/completions',
        ),
      { description: 'the engine client span' },
    );
    expect(client.attributes).toMatchObject({
      'server.address': socketPath,
      'network.transport': 'unix',
      'url.full': 'http://localhost/v1/chat/completions',
      'gen_ai.usage.output_tokens': 24,
    });
  });

  it('scrapes the engine metrics through the socket into its load', async () => {
    await sim.setFault(SLOW);
    const caller = new AbortController();
    const stream = iterate(shard.client.generate(generateRequest(), { signal: caller.signal }));
    await untilFirstDelta(stream);
    // runningRequests comes from the engine's vllm:num_requests_running, scraped every 200 ms.
    await waitFor(async () => (await shard.client.getLoad({})).load?.runningRequests === 1, {
      description: 'GetLoad reporting the running request gpu-sim counts',
    });
    expect(await shard.client.getLoad({})).toMatchObject({ ready: true });
    caller.abort();
    await untilEnd(stream).catch(() => undefined);
  });

  it('cancels the engine request through the socket when the gRPC caller goes away', async () => {
    await expectEngineRequestCancelledWithCaller(sim, shard);
  });

  it('with no engine at the socket path, refuses turns as UNAVAILABLE and names the path', async () => {
    const missing = join(socketDir, 'nobody-here.sock');
    const orphan = await startAdapter({
      SHARD_ID: 'shard-no-engine',
      ENGINE_URL: `unix:${missing}`,
    });
    try {
      await waitFor(() => orphan.runtime.engineHealth.detail.includes(missing), {
        description: 'the health probe naming the socket path',
      });
      expect(orphan.runtime.engineHealth).toEqual({
        ready: false,
        detail: `the engine at unix:${missing} is unreachable (ENOENT: no socket at that path; is the engine listening there?)`,
      });
      const refused = await collectTurn(orphan.client.generate(generateRequest())).catch(
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(ClientError);
      expect(refused).toMatchObject({ code: Status.UNAVAILABLE });
      expect((refused as ClientError).details).toContain(`unix:${missing}`);
    } finally {
      await orphan.close();
    }
  });
});
