// Cost of the simulator itself: CPU used by ONE gpu-sim process serving 256 concurrent streams at
// time scale 1 (real time), measured from /proc/<pid>/stat over a fixed window while clients in
// this (separate) process keep 256 streams open in a closed loop. Target: < 25 % of one core.
import {
  cpuSeconds,
  metric,
  round,
  scrape,
  sleep,
  startGpuSim,
  uniquePrompt,
  writeResult,
} from './gpu-sim-harness.js';

const STREAMS = 256;
const WARMUP_MS = 4000;
const WINDOW_MS = 10_000;
const PROMPT_TOKENS = 256;
const OUTPUT_TOKENS = 2048;

interface Run {
  readonly maxWritesPerSec: number;
  readonly cpuPercentOfOneCore: number;
  readonly tokensPerSecond: number;
  readonly runningAtEnd: number;
  readonly simulatedMeanItlMs: number;
  readonly clientChunksPerSecond: number;
}

async function run(maxWritesPerSec: number): Promise<Run> {
  const sim = await startGpuSim([
    '--time-scale',
    '1',
    '--max-writes-per-sec',
    String(maxWritesPerSec),
  ]);
  const stop = new AbortController();
  let chunks = 0;
  const client = async () => {
    while (!stop.signal.aborted) {
      try {
        const response = await fetch(`${sim.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            prompt: uniquePrompt(PROMPT_TOKENS),
            max_tokens: OUTPUT_TOKENS,
            ignore_eos: true,
            stream: true,
          }),
          signal: stop.signal,
        });
        const reader: ReadableStreamDefaultReader<Uint8Array> = response.body!.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          // Count events cheaply: every event ends with a blank line.
          const bytes = value;
          for (let i = 1; i < bytes.length; i++)
            if (bytes[i] === 10 && bytes[i - 1] === 10) chunks++;
        }
      } catch {
        // aborted at the end of the run
      }
    }
  };
  const clients = Array.from({ length: STREAMS }, () => client());
  await sleep(WARMUP_MS);
  const before = await scrape(sim.url);
  const cpu0 = cpuSeconds(sim.pid);
  const chunks0 = chunks;
  const t0 = performance.now();
  await sleep(WINDOW_MS);
  const cpu1 = cpuSeconds(sim.pid);
  const t1 = performance.now();
  const chunks1 = chunks;
  const after = await scrape(sim.url);
  stop.abort();
  await Promise.all(clients);
  await sim.stop();
  const seconds = (t1 - t0) / 1000;
  const delta = (name: string) => metric(after, name) - metric(before, name);
  return {
    maxWritesPerSec,
    cpuPercentOfOneCore: round((100 * (cpu1 - cpu0)) / seconds, 1),
    tokensPerSecond: round(delta('vllm:generation_tokens_total') / seconds, 0),
    runningAtEnd: metric(after, 'vllm:num_requests_running'),
    simulatedMeanItlMs: round(
      (1000 * delta('vllm:inter_token_latency_seconds_sum')) /
        delta('vllm:inter_token_latency_seconds_count'),
      2,
    ),
    clientChunksPerSecond: round((chunks1 - chunks0) / seconds, 0),
  };
}

const runs: Run[] = [];
// 8000 is the default; 0 disables the write-rate cap (one write per stream per engine step).
for (const maxWritesPerSec of [8000, 0, 4000]) {
  const result = await run(maxWritesPerSec);
  runs.push(result);
  console.log(JSON.stringify(result));
}
const path = writeResult('gpu-sim-cost', {
  bench: 'gpu-sim-cost',
  when: new Date().toISOString(),
  setup: {
    profile: 'llama-3.1-8b-h100',
    timeScale: 1,
    streams: STREAMS,
    promptTokens: PROMPT_TOKENS,
    outputTokensPerRequest: OUTPUT_TOKENS,
    warmupMs: WARMUP_MS,
    windowMs: WINDOW_MS,
    method:
      'server CPU = Δ(utime+stime) of the gpu-sim process from /proc/<pid>/stat over the window; clients run in the bench process',
    cpus: (await import('node:os')).cpus().length,
  },
  target:
    'cpuPercentOfOneCore < 25 with the defaults (min tick 1 ms, at most 8000 socket writes/s)',
  runs,
});
console.log(`wrote ${path}`);
