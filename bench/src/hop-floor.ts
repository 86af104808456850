// What one process hop costs in Node, taken apart: the same request and reply bytes carried by
// ever thicker layers, client in this process and servers in a child process, paths alternating
// block by block. Answers where the ~0.9 ms of a bare grpc-js hop goes: the kernel's loopback and
// event-loop wake-ups, HTTP/2 framing (node:http2), or grpc-js' JavaScript on top of it.
//   socket   — net.Socket request/response, one write each way (the kernel and libuv alone);
//   http1    — node:http POST + SSE reply as gpu-sim sends it (head flushed, then the body);
//   http2    — node:http2 with gRPC's framing, headers and trailers, no grpc-js;
//   grpc-js  — a bare @grpc/grpc-js server and client (Started + one Delta + Completed);
// each over TCP loopback (127.0.0.1) and over a Unix domain socket. Then the real thing:
//   gpuSim   — gpu-sim at zero latency, called as the adapter-overhead bench's direct path does;
//   adapter  — the inference adapter (called with @spillway/grpc, as the router does) in front of
//              that gpu-sim: over TCP, and with ENGINE_URL=unix:… and gpu-sim --uds.
// Per path: wall time per call, and per call on each side the CPU time (all threads, from
// /proc/<pid>/task/*/schedstat, in ns), read/write syscalls (/proc/<pid>/io) and voluntary
// context switches of the main thread (each one an event-loop sleep and wake-up).
// Writes bench/results/hop-floor.json (or RESULTS_FILE).
//
// Run: npx turbo run build --filter=@spillway/bench... --filter=@spillway/inference-adapter...
//        --filter=@spillway/gpu-sim...
//      flock /tmp/spillway-bench.lock npx node bench/dist/hop-floor.js
// Knobs: CALLS per path (default 3000), BLOCK (100), PATHS (comma-separated subset, e.g.
//        adapter-tcp,adapter-uds).
// To see where CPU goes, sample CPU time, not wall time: NODE_OPTIONS=--perf-basic-prof-only-functions
// with `perf record -e cpu-clock -g -a` while it runs. (--cpu-prof samples wall time: on a busy
// machine a process preempted inside write() looks as if write() were expensive.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import {
  connect as connectHttp2,
  constants as h2,
  createServer as createHttp2Server,
  type ClientHttp2Session,
} from 'node:http2';
import {
  connect as connectNet,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as grpcJs from '@grpc/grpc-js';
import { common, inference } from '@spillway/contracts';
import { createGrpcClient } from '@spillway/grpc';

const CALLS = Number(process.env.CALLS ?? 3_000);
const BLOCK = Number(process.env.BLOCK ?? 100);
const WARMUP = 300;
const GENERATE_PATH = '/spillway.inference.v1.Inference/Generate';
const TRANSPORTS = ['tcp', 'uds'] as const;
const LAYERS = ['socket', 'http1', 'http2', 'grpcJs'] as const;
const SERVICES = ['gpuSim', 'adapter'] as const;
type Transport = (typeof TRANSPORTS)[number];
type Layer = (typeof LAYERS)[number];
type Service = (typeof SERVICES)[number];
type PathName = `${Layer | Service}-${Transport}`;
const ALL_PATHS: PathName[] = [...LAYERS, ...SERVICES].flatMap((layer) =>
  TRANSPORTS.map((transport): PathName => `${layer}-${transport}`),
);
const root = fileURLToPath(new URL('../..', import.meta.url));
const PATHS = (process.env.PATHS?.split(',') as PathName[] | undefined) ?? ALL_PATHS;

const generate = inference.InferenceDefinition.methods.generate;
const REPLY_TEXT = ' Thanks for reaching out. I checked your order and it left our warehouse';

// The request and reply of one turn, as the adapter's gRPC face carries them.
const requestMessage: inference.GenerateRequest = {
  requestId: 'bench-1',
  conversationId: 'bench-conv-1',
  tenantId: 'bench',
  model: '',
  messages: [
    {
      role: common.Role.ROLE_USER,
      content: 'Where is my order? The tracking page has not changed since Monday.',
      name: '',
    },
  ],
  sampling: { maxTokens: 16, seed: 7, stop: [] },
  priority: common.Priority.PRIORITY_STANDARD,
  resumeFromText: '',
};
const replyMessages: inference.GenerateResponse[] = [
  { event: { $case: 'started', value: { shardId: 'floor', promptTokens: 30 } } },
  { event: { $case: 'delta', value: { text: REPLY_TEXT } } },
  {
    event: {
      $case: 'completed',
      value: {
        finishReason: common.FinishReason.FINISH_REASON_LENGTH,
        usage: { promptTokens: 30, completionTokens: 16, totalTokens: 46, cachedPromptTokens: 0 },
      },
    },
  },
];
const encodeRequest = (value: inference.GenerateRequest) =>
  Buffer.from(generate.requestType.encode(value).finish());
const encodeResponse = (value: inference.GenerateResponse) =>
  Buffer.from(generate.responseType.encode(value).finish());

/** gRPC's length-prefixed message framing. */
function frame(message: Buffer): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}
const requestFrame = frame(encodeRequest(requestMessage));
const replyFrames = replyMessages.map((m) => frame(encodeResponse(m)));

/** gpu-sim's reply to the same turn: 16 chunks, finish reason on the last, usage, [DONE]. */
function sseBody(): string {
  const head =
    'data: {"id":"chatcmpl-0f0e0d0c0b0a09080706050403020100","object":"chat.completion.chunk","created":1700000000,"model":"llama-3.1-8b","choices":[{"index":0,';
  const words = REPLY_TEXT.match(/ ?\S+/g) ?? [];
  let out = `${head}"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`;
  for (let i = 0; i < 16; i++) {
    const text = words[i % words.length] ?? '';
    out += `${head}"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":${i === 15 ? '"length"' : 'null'}}]}\n\n`;
  }
  out +=
    'data: {"id":"chatcmpl-0f0e0d0c0b0a09080706050403020100","object":"chat.completion.chunk","created":1700000000,"model":"llama-3.1-8b","choices":[],"usage":{"prompt_tokens":30,"total_tokens":46,"completion_tokens":16}}\n\n';
  return `${out}data: [DONE]\n\n`;
}
const SSE_BODY = sseBody();
const CHAT_BODY = JSON.stringify({
  model: 'llama-3.1-8b',
  messages: [{ role: 'user', content: requestMessage.messages[0]!.content }],
  stream: true,
  stream_options: { include_usage: true },
  max_tokens: 16,
  seed: 7,
});
const SOCKET_REPLY = Buffer.concat(replyFrames);

interface Addresses {
  readonly tcp: Record<Layer, number>;
  readonly uds: Record<Layer, string>;
}

// ---------------------------------------------------------------- servers (child process)

async function serve(socketDir: string): Promise<void> {
  const listen = (server: NetServer, transport: Transport, layer: Layer) =>
    new Promise<number | string>((resolve, reject) => {
      const path = join(socketDir, `${layer}.sock`);
      server.once('error', reject);
      server.listen(transport === 'tcp' ? { port: 0, host: '127.0.0.1' } : { path }, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : path);
      });
    });

  const addresses: { tcp: Partial<Record<Layer, number>>; uds: Partial<Record<Layer, string>> } = {
    tcp: {},
    uds: {},
  };
  for (const transport of TRANSPORTS) {
    const record = (layer: Layer, at: number | string) => {
      if (transport === 'tcp') addresses.tcp[layer] = at as number;
      else addresses.uds[layer] = at as string;
    };

    // socket: read the request, answer with the three frames in one write.
    const socketServer = createNetServer((socket) => {
      socket.setNoDelay(true);
      let got = 0;
      socket.on('data', (chunk) => {
        got += chunk.length;
        if (got >= requestFrame.length) {
          got -= requestFrame.length;
          socket.write(SOCKET_REPLY);
        }
      });
    });
    record('socket', await listen(socketServer, transport, 'socket'));

    // http1: gpu-sim's shape — parse the JSON body, flush the head, then the whole SSE body.
    const httpServer = createHttpServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        JSON.parse(body);
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        res.flushHeaders();
        res.end(SSE_BODY);
      });
    });
    record('http1', await listen(httpServer, transport, 'http1'));

    // http2: what a gRPC server puts on the wire, by hand — headers, three DATA frames, trailers.
    const http2Server = createHttp2Server();
    http2Server.on('stream', (stream) => {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        stream.respond(
          { [h2.HTTP2_HEADER_STATUS]: 200, 'content-type': 'application/grpc+proto' },
          { waitForTrailers: true },
        );
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        for (const bytes of replyFrames) stream.write(bytes);
        stream.end();
      });
    });
    record('http2', await listen(http2Server, transport, 'http2'));

    // grpc-js: the bare library, as the adapter-overhead floor runs it.
    const grpcServer = new grpcJs.Server({ 'grpc.enable_channelz': 0 });
    grpcServer.register(
      GENERATE_PATH,
      (
        call: grpcJs.ServerWritableStream<inference.GenerateRequest, inference.GenerateResponse>,
      ) => {
        for (const message of replyMessages) call.write(message);
        call.end();
      },
      encodeResponse,
      (bytes: Buffer) => generate.requestType.decode(bytes),
      'serverStream',
    );
    const grpcTarget =
      transport === 'tcp' ? '127.0.0.1:0' : `unix:${join(socketDir, 'grpcJs.sock')}`;
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync(grpcTarget, grpcJs.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    record('grpcJs', transport === 'tcp' ? grpcPort : join(socketDir, 'grpcJs.sock'));
  }
  process.stdout.write(`${JSON.stringify({ listening: addresses })}\n`);
}

// ---------------------------------------------------------------- clients (this process)

type Call = () => Promise<void>;
interface Client {
  readonly call: Call;
  close(): void;
}

function socketClient(transport: Transport, at: number | string): Client {
  const socket: Socket =
    transport === 'tcp' ? connectNet(at as number, '127.0.0.1') : connectNet(at as string);
  socket.setNoDelay(true);
  let pending: { got: number; resolve: () => void } | undefined;
  socket.on('data', (chunk) => {
    if (!pending) return;
    pending.got += chunk.length;
    if (pending.got >= SOCKET_REPLY.length) {
      const done = pending;
      pending = undefined;
      done.resolve();
    }
  });
  return {
    call: () =>
      new Promise<void>((resolve) => {
        pending = { got: 0, resolve };
        socket.write(requestFrame);
      }),
    close: () => socket.destroy(),
  };
}

function http1Client(transport: Transport, at: number | string): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const where =
    transport === 'tcp' ? { host: '127.0.0.1', port: at as number } : { socketPath: at as string };
  return {
    call: () =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          {
            ...where,
            path: '/v1/chat/completions',
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              accept: 'text/event-stream',
              'content-length': Buffer.byteLength(CHAT_BODY),
            },
          },
          (res) => {
            res.setEncoding('utf8');
            let text = '';
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () =>
              text.endsWith('data: [DONE]\n\n') ? resolve() : reject(new Error('no [DONE]')),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(CHAT_BODY);
      }),
    close: () => agent.destroy(),
  };
}

function http2Client(transport: Transport, at: number | string): Client {
  const session: ClientHttp2Session =
    transport === 'tcp'
      ? connectHttp2(`http://127.0.0.1:${at}`)
      : connectHttp2('http://localhost', { createConnection: () => connectNet(at as string) });
  const headers = {
    [h2.HTTP2_HEADER_METHOD]: 'POST',
    [h2.HTTP2_HEADER_PATH]: GENERATE_PATH,
    [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    te: 'trailers',
    'grpc-timeout': '30S',
  };
  return {
    call: () =>
      new Promise<void>((resolve, reject) => {
        const stream = session.request(headers);
        const chunks: Buffer[] = [];
        let status: string | undefined;
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on(
          'trailers',
          (trailers: Record<string, unknown>) => (status = String(trailers['grpc-status'])),
        );
        stream.on('error', reject);
        stream.on('end', () => {
          // Decode what grpc-js would: each framed message.
          const bytes = Buffer.concat(chunks);
          let offset = 0;
          let messages = 0;
          while (offset + 5 <= bytes.length) {
            const length = bytes.readUInt32BE(offset + 1);
            generate.responseType.decode(bytes.subarray(offset + 5, offset + 5 + length));
            offset += 5 + length;
            messages++;
          }
          if (status === '0' && messages === 3) resolve();
          else reject(new Error(`http2: status ${status}, ${messages} messages`));
        });
        stream.end(encodeRequestFramed());
      }),
    close: () => session.close(),
  };
}

/** Encoded per call, as every client does. */
function encodeRequestFramed(): Buffer {
  return frame(encodeRequest(requestMessage));
}

function grpcJsClient(transport: Transport, at: number | string): Client {
  const target = transport === 'tcp' ? `127.0.0.1:${at}` : `unix:${at}`;
  const client = new grpcJs.Client(target, grpcJs.credentials.createInsecure(), {
    'grpc.enable_channelz': 0,
  });
  return {
    call: () =>
      new Promise<void>((resolve, reject) => {
        let messages = 0;
        const stream = client.makeServerStreamRequest(
          GENERATE_PATH,
          encodeRequest,
          (bytes: Buffer) => generate.responseType.decode(bytes),
          requestMessage,
          { deadline: Date.now() + 30_000 },
        );
        stream.on('data', () => messages++);
        stream.on('error', reject);
        stream.on('end', () =>
          messages === 3 ? resolve() : reject(new Error(`grpc-js: ${messages} messages`)),
        );
      }),
    close: () => client.close(),
  };
}

const CLIENTS: Record<Layer, (transport: Transport, at: number | string) => Client> = {
  socket: socketClient,
  http1: http1Client,
  http2: http2Client,
  grpcJs: grpcJsClient,
};

// ---------------------------------------------------------------- counters from /proc

interface Counters {
  readonly cpuNs: number;
  readonly reads: number;
  readonly writes: number;
  readonly wakeups: number;
}

function countersOf(pid: number): Counters {
  let cpuNs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      cpuNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that just ended
    }
  }
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return {
    cpuNs,
    reads: field(io, 'syscr'),
    writes: field(io, 'syscw'),
    wakeups: field(status, 'voluntary_ctxt_switches'),
  };
}

function minus(a: Counters, b: Counters): Counters {
  return {
    cpuNs: a.cpuNs - b.cpuNs,
    reads: a.reads - b.reads,
    writes: a.writes - b.writes,
    wakeups: a.wakeups - b.wakeups,
  };
}

const ZERO: Counters = { cpuNs: 0, reads: 0, writes: 0, wakeups: 0 };
const add = (a: Counters, b: Counters): Counters => minus(a, minus(ZERO, b));

// ---------------------------------------------------------------- main

function startServers(socketDir: string): Promise<{ child: ChildProcess; addresses: Addresses }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', socketDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const line = output.split('\n').find((l) => l.startsWith('{"listening"'));
      if (line)
        resolve({ child, addresses: (JSON.parse(line) as { listening: Addresses }).listening });
    });
    child.once('exit', (code) => reject(new Error(`servers exited (${code}): ${output}`)));
  });
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const r3 = (v: number) => Math.round(v * 1_000) / 1_000;

/** A service as `npm start` runs it, ready when its log says so. */
function startService(
  cwd: string,
  args: readonly string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', '@spillway/telemetry/register', 'dist/main.js', ...args],
    {
      cwd: `${root}${cwd}`,
      env: { ...process.env, SPILLWAY_TRACE_EXPORTER: 'none', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (ready.test(output)) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cwd} exited (${code}): ${output}`)));
  });
}

/** gpu-sim at zero latency and an adapter in front of it, the engine over TCP or its socket. */
async function startShard(
  transport: Transport,
  socketDir: string,
): Promise<{ sim: ChildProcess; simAt: number | string; adapter: ChildProcess; grpcPort: number }> {
  const [simPort, grpcPort] = (await freePorts(2)) as [number, number];
  const socketPath = join(socketDir, 'gpu-sim.sock');
  const sim = await startService(
    'services/gpu-sim',
    [
      ...(transport === 'tcp' ? ['--port', String(simPort)] : ['--uds', socketPath]),
      '--time-scale',
      '0',
      '--min-tick-ms',
      '0',
    ],
    {},
    /gpu-sim listening/,
  );
  const adapter = await startService(
    'services/inference-adapter',
    [],
    {
      SHARD_ID: `hop-floor-${transport}`,
      MODEL: 'llama-3.1-8b',
      ENGINE_URL: transport === 'tcp' ? `http://127.0.0.1:${simPort}` : `unix:${socketPath}`,
      GRPC_PORT: String(grpcPort),
    },
    /serving Inference on/,
  );
  return { sim, simAt: transport === 'tcp' ? simPort : socketPath, adapter, grpcPort };
}

/** Distinct free ports: every probe stays open until all are known, so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<NetServer>((resolve, reject) => {
          const server = createNetServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function adapterClient(port: number): Client {
  const client = createGrpcClient(inference.InferenceDefinition, `127.0.0.1:${port}`, {
    defaultDeadlineMs: 30_000,
  });
  return {
    call: async () => {
      let completed = false;
      for await (const response of client.generate(requestMessage))
        if (response.event?.$case === 'completed') completed = true;
      if (!completed) throw new Error('adapter: no GenerateCompleted');
    },
    close: () => client.close(),
  };
}

/** Who serves a path: its client here, and the processes whose counters are charged to it. */
interface Served {
  readonly client: Client;
  readonly serverPid: number;
  /** The engine behind the server (gpu-sim behind an adapter). */
  readonly enginePid?: number;
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const socketDir = mkdtempSync(join(tmpdir(), 'hop-floor-'));
  const children: ChildProcess[] = [];
  try {
    const floors = await startServers(socketDir);
    children.push(floors.child);
    const served: Partial<Record<PathName, Served>> = {};
    for (const transport of TRANSPORTS) {
      for (const layer of LAYERS) {
        const path: PathName = `${layer}-${transport}`;
        if (!PATHS.includes(path)) continue;
        served[path] = {
          client: CLIENTS[layer](transport, floors.addresses[transport][layer]),
          serverPid: floors.child.pid!,
        };
      }
      if (!PATHS.includes(`gpuSim-${transport}`) && !PATHS.includes(`adapter-${transport}`))
        continue;
      const shard = await startShard(transport, socketDir);
      children.push(shard.sim, shard.adapter);
      if (PATHS.includes(`gpuSim-${transport}`))
        served[`gpuSim-${transport}`] = {
          client: http1Client(transport, shard.simAt),
          serverPid: shard.sim.pid!,
        };
      if (PATHS.includes(`adapter-${transport}`))
        served[`adapter-${transport}`] = {
          client: adapterClient(shard.grpcPort),
          serverPid: shard.adapter.pid!,
          enginePid: shard.sim.pid!,
        };
    }
    const paths = PATHS.filter((path) => served[path] !== undefined);
    const serving = (path: PathName) => served[path]!;

    for (const path of paths) for (let i = 0; i < WARMUP; i++) await serving(path).client.call();

    const wall: Record<string, number[]> = {};
    const totals: Record<string, { client: Counters; server: Counters; engine: Counters }> = {};
    for (const path of paths) {
      wall[path] = [];
      totals[path] = { client: ZERO, server: ZERO, engine: ZERO };
    }
    // Reading the counters costs the client CPU and read syscalls of its own: measured around
    // an empty block every round and taken off each block's figures. Every block reads three
    // processes' counters (a path without an engine reads its server's twice), so all pay alike.
    let probe = { client: ZERO, blocks: 0 };
    const floorsPid = floors.child.pid!;
    const rounds = Math.ceil(CALLS / BLOCK);
    for (let round = 0; round < rounds; round++) {
      {
        const clientBefore = countersOf(process.pid);
        countersOf(floorsPid);
        countersOf(floorsPid);
        countersOf(floorsPid);
        countersOf(floorsPid);
        const clientAfter = countersOf(process.pid);
        probe = {
          client: add(probe.client, minus(clientAfter, clientBefore)),
          blocks: probe.blocks + 1,
        };
      }
      for (let k = 0; k < paths.length; k++) {
        const path = paths[(round + k) % paths.length]!;
        const { client, serverPid, enginePid } = serving(path);
        const enginePidOrServer = enginePid ?? serverPid;
        const times = wall[path]!;
        const clientBefore = countersOf(process.pid);
        const serverBefore = countersOf(serverPid);
        const engineBefore = countersOf(enginePidOrServer);
        for (let i = 0; i < BLOCK; i++) {
          const begin = performance.now();
          await client.call();
          times.push(performance.now() - begin);
        }
        const engineAfter = countersOf(enginePidOrServer);
        const serverAfter = countersOf(serverPid);
        const clientAfter = countersOf(process.pid);
        const total = totals[path]!;
        total.client = add(total.client, minus(clientAfter, clientBefore));
        total.server = add(total.server, minus(serverAfter, serverBefore));
        if (enginePid !== undefined)
          total.engine = add(total.engine, minus(engineAfter, engineBefore));
      }
    }
    for (const path of paths) serving(path).client.close();

    // Per call; the client's figures less the counters' own cost (one probe per block).
    const perCall = (c: Counters, n: number, less: Counters = ZERO) => {
      const overhead = (value: number) => (value / probe.blocks) * (n / BLOCK);
      return {
        cpuUs: Math.round((c.cpuNs - overhead(less.cpuNs)) / n / 100) / 10,
        readSyscalls: r3((c.reads - overhead(less.reads)) / n),
        writeSyscalls: r3((c.writes - overhead(less.writes)) / n),
        wakeups: r3((c.wakeups - overhead(less.wakeups)) / n),
      };
    };
    const results = Object.fromEntries(
      paths.map((path) => {
        const sorted = [...wall[path]!].sort((a, b) => a - b);
        const n = sorted.length;
        const total = totals[path]!;
        return [
          path,
          {
            calls: n,
            wallMs: {
              p50: r3(percentile(sorted, 0.5)),
              p90: r3(percentile(sorted, 0.9)),
              p99: r3(percentile(sorted, 0.99)),
              mean: r3(sorted.reduce((a, b) => a + b, 0) / n),
            },
            client: perCall(total.client, n, probe.client),
            server: perCall(total.server, n),
            ...(serving(path).enginePid === undefined ? {} : { engine: perCall(total.engine, n) }),
          },
        ];
      }),
    );
    const report = {
      benchmark: 'hop-floor',
      when: new Date().toISOString(),
      node: process.version,
      grpcJs: (
        JSON.parse(
          readFileSync(fileURLToPath(import.meta.resolve('@grpc/grpc-js/package.json')), 'utf8'),
        ) as { version: string }
      ).version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverage: { before: loadBefore.map(r3), after: loadavg().map(r3) },
      method:
        'client in the bench process; floor servers in one child process; gpu-sim and the adapter ' +
        'as services (tracing on, no exporter). One call at a time; paths alternate in blocks of ' +
        `${BLOCK} calls (counters are read around each block). cpuUs: CPU of all threads ` +
        '(schedstat); read/writeSyscalls: /proc/<pid>/io syscr/syscw; wakeups: voluntary context ' +
        'switches of the main thread. Per call; the client figures less the cost of reading the ' +
        'counters (an empty block measured every round). engine = gpu-sim behind the adapter.',
      bytes: {
        grpcRequest: requestFrame.length,
        grpcReply: SOCKET_REPLY.length,
        httpRequestBody: Buffer.byteLength(CHAT_BODY),
        sseReplyBody: Buffer.byteLength(SSE_BODY),
      },
      countersCostPerBlock: {
        clientCpuUs: Math.round(probe.client.cpuNs / probe.blocks / 1_000),
        clientReadSyscalls: r3(probe.client.reads / probe.blocks),
      },
      paths: results,
    };
    const out =
      process.env.RESULTS_FILE ??
      fileURLToPath(new URL('../results/hop-floor.json', import.meta.url));
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
  } finally {
    for (const child of children.reverse()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    }
    rmSync(socketDir, { recursive: true, force: true });
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt !== -1) {
  // A normal exit, so NODE_OPTIONS=--cpu-prof writes the servers' profile too.
  process.once('SIGTERM', () => process.exit(0));
  await serve(process.argv[serveAt + 1]!);
} else await main();
