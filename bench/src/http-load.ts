// An HTTP load generator in its own process (started with fork() by a benchmark), so that sending
// requests and timing them never shares an event loop with what is being measured. Keep-alive
// node:http agent, one job at a time over IPC: closed-loop (N callers, each waits for its answer)
// or open-loop (requests leave on a fixed schedule whatever the answers do; latency is counted
// from the scheduled send time, so a stalled server cannot hide its queue: no coordinated
// omission).
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadTarget {
  readonly name: string;
  /** Requests cycle through these URLs (one per stored conversation, or just one). */
  readonly urls: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Server-sent events, read to `data: [DONE]`; otherwise one JSON body with `choices`. */
  readonly stream: boolean;
}

export type LoadJob =
  | {
      readonly kind: 'closed';
      /** Each caller sends one request per target in turn (rotating which goes first). */
      readonly targets: readonly LoadTarget[];
      readonly rounds: number;
      readonly concurrency: number;
      readonly maxMs: number;
    }
  | {
      readonly kind: 'open';
      readonly target: LoadTarget;
      readonly ratePerSecond: number;
      readonly durationMs: number;
      /** Requests still open this long after the last was due count as errors. */
      readonly graceMs: number;
      /** More requests than this waiting for an answer: the next ones are errors (not sent). */
      readonly maxInFlight: number;
    };

export interface LoadResult {
  /** Per target name: latency of every successful request, ms, in completion order. */
  readonly latenciesMs: Record<string, number[]>;
  readonly errors: Record<string, number>;
  readonly errorSamples: string[];
  readonly sent: number;
  readonly wallMs: number;
  /** CPU the generator itself used during the job, ms. */
  readonly generatorCpuMs: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1_024, maxFreeSockets: 1_024 });

function send(target: LoadTarget, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          ...target.headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(target.body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const ok = target.stream
            ? text.includes('data: [DONE]') && !text.includes('"error"')
            : text.includes('"choices"');
          if (res.statusCode === 200 && ok) resolve();
          else reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        });
      },
    );
    req.on('error', reject);
    req.end(target.body);
  });
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1_000;
}

async function runClosed(job: Extract<LoadJob, { kind: 'closed' }>): Promise<LoadResult> {
  const latenciesMs: Record<string, number[]> = {};
  const errors: Record<string, number> = {};
  for (const target of job.targets) {
    latenciesMs[target.name] = [];
    errors[target.name] = 0;
  }
  const errorSamples: string[] = [];
  const cpuBefore = cpuMs();
  const begin = performance.now();
  const deadline = begin + job.maxMs;
  let round = 0;
  let sent = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (round < job.rounds && performance.now() < deadline) {
        const r = round++;
        for (let k = 0; k < job.targets.length; k++) {
          const target = job.targets[(r + k) % job.targets.length]!;
          const url = target.urls[r % target.urls.length]!;
          const started = performance.now();
          sent++;
          try {
            await send(target, url);
            latenciesMs[target.name]!.push(performance.now() - started);
          } catch (error) {
            errors[target.name]! += 1;
            if (errorSamples.length < 5) errorSamples.push(`${target.name}: ${String(error)}`);
          }
        }
      }
    }),
  );
  return {
    latenciesMs,
    errors,
    errorSamples,
    sent,
    wallMs: performance.now() - begin,
    generatorCpuMs: cpuMs() - cpuBefore,
  };
}

async function runOpen(job: Extract<LoadJob, { kind: 'open' }>): Promise<LoadResult> {
  const { target } = job;
  const latencies: number[] = [];
  let errorCount = 0;
  const errorSamples: string[] = [];
  const total = Math.round((job.ratePerSecond * job.durationMs) / 1_000);
  const intervalMs = 1_000 / job.ratePerSecond;
  const cpuBefore = cpuMs();
  const begin = performance.now();
  let next = 0;
  let inFlight = 0;
  let resolveIdle: (() => void) | undefined;
  const fail = (error: unknown) => {
    errorCount++;
    if (errorSamples.length < 5) errorSamples.push(`${target.name}: ${String(error)}`);
  };
  await new Promise<void>((resolveSchedule) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && begin + next * intervalMs <= now) {
        const scheduledAt = begin + next * intervalMs;
        const url = target.urls[next % target.urls.length]!;
        next++;
        if (inFlight >= job.maxInFlight) {
          fail(new Error(`more than ${job.maxInFlight} requests in flight`));
          continue;
        }
        inFlight++;
        send(target, url)
          .then(() => latencies.push(performance.now() - scheduledAt), fail)
          .finally(() => {
            inFlight--;
            if (inFlight === 0) resolveIdle?.();
          });
      }
      if (next < total) {
        const wait = begin + next * intervalMs - performance.now();
        // setImmediate below a millisecond: setTimeout cannot wait less than 1 ms.
        if (wait < 1) setImmediate(tick);
        else setTimeout(tick, Math.floor(wait));
      } else resolveSchedule();
    };
    tick();
  });
  if (inFlight > 0) {
    await Promise.race([
      new Promise<void>((resolve) => (resolveIdle = resolve)),
      new Promise<void>((resolve) => setTimeout(resolve, job.graceMs)),
    ]);
  }
  const unanswered = inFlight;
  errorCount += unanswered;
  if (unanswered > 0) errorSamples.push(`${target.name}: ${unanswered} unanswered after grace`);
  return {
    latenciesMs: { [target.name]: latencies },
    errors: { [target.name]: errorCount },
    errorSamples,
    sent: next,
    wallMs: performance.now() - begin,
    generatorCpuMs: cpuMs() - cpuBefore,
  };
}

process.on('message', (job: LoadJob) => {
  const run = job.kind === 'closed' ? runClosed(job) : runOpen(job);
  run.then(
    (result) => process.send?.({ ok: true, result }),
    (error: unknown) => process.send?.({ ok: false, error: String(error) }),
  );
});
process.send?.({ ready: true });
