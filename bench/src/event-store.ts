// conversation-state's event store on this machine's PostgreSQL and Kafka, through its public gRPC
// API, with the service started as `npm start` runs it (built dist, its own process):
//   1. appended events per second: CONVERSATIONS concurrent conversations, each appending turns as
//      the router does (AppendEvents batches of BATCH events at an expected version; and, for
//      reference, one command RPC per event);
//   2. outbox-to-Kafka lag at that rate: consumer receive time minus the outbox row's created_at
//      (written in the append's own statement, so: from commit to consumer), and, as before, minus
//      the event's occurred_at (set by the bench client before the append call, so it includes the
//      append's own latency);
//   3. GetContext of a 200-turn conversation, warm (state cache) and cold (snapshot + tail only).
// The lag is also read on the relay's side alone: insert to Kafka's acknowledgement.
// Bounded: every phase stops after its event count or its time limit. Writes
// bench/results/event-store.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { common, conversation, events } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import { createKafkaMessaging, defineTopic, eventCodec, silentLogger } from '@spillway/messaging';
import pg from 'pg';

const root = fileURLToPath(new URL('../..', import.meta.url));
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const serverUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 32);
const BATCH = Number(process.env.BATCH ?? 10);
const TARGET_EVENTS = Number(process.env.TARGET_EVENTS ?? 60_000);
const PHASE_LIMIT_MS = Number(process.env.PHASE_LIMIT_MS ?? 15_000);
/** The paced phase: appends offered at this rate (the target's), for the lag "at that rate". */
const PACED_EVENTS_PER_SECOND = Number(process.env.PACED_EVENTS_PER_SECOND ?? 5_000);
/**
 * A minute (until session 9, 10 s): at 5,000 events/s PostgreSQL checkpoints about every 47 s on
 * this machine's 1 GB max_wal_size, and the lag's tail follows each checkpoint. A minute holds the
 * steady state, one or two of them; a 10-second phase held one or none, so its p99 measured
 * whether a checkpoint began inside it. PACED_PHASE_MS=10000 repeats the earlier sessions' runs.
 */
const PACED_PHASE_MS = Number(process.env.PACED_PHASE_MS ?? 60_000);
const CONTEXT_TURNS = 200;
const TURNS_PER_CONVERSATION = Number(process.env.TURNS_PER_CONVERSATION ?? 100);
const CONTEXT_READS = Number(process.env.CONTEXT_READS ?? 500);
// Reads before the measured ones: the cold replica is a fresh process, and its first reads time
// the JIT compiler rather than the read path (the warm replica has had the whole append phase).
const CONTEXT_WARMUP_READS = Number(process.env.CONTEXT_WARMUP_READS ?? 100);
/**
 * PostgreSQL settings for the bench's database only (`ALTER DATABASE ... SET`), to try a server
 * setting without changing it for the other databases on the shared server, e.g.
 * "wal_compression=lz4". Default: none.
 */
const DATABASE_SETTINGS = parseDatabaseSettings(process.env.BENCH_DATABASE_SETTINGS ?? '');

type Client = GrpcClient<typeof conversation.ConversationStoreDefinition>;

const suffix = randomBytes(4).toString('hex');
const database = `spillway_bench_${suffix}`;
const topic = `bench.${suffix}.conversation.events`;

function parseDatabaseSettings(text: string): [string, string][] {
  return text
    .split(',')
    .filter((entry) => entry.trim() !== '')
    .map((entry) => {
      const match = /^\s*([a-z_]+(?:\.[a-z_]+)?)\s*=\s*([\w.-]+)\s*$/.exec(entry);
      if (!match?.[1] || !match[2])
        throw new Error(
          `BENCH_DATABASE_SETTINGS: "${entry}" is not name=value (e.g. wal_compression=lz4)`,
        );
      return [match[1], match[2]];
    });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const round = (value: number, digits = 2): number =>
  Math.round(value * 10 ** digits) / 10 ** digits;
const message = (content: string): common.ChatMessage => ({
  role: common.Role.ROLE_USER,
  content,
  name: '',
});

function stored(
  body: NonNullable<events.ConversationEvent['event']>,
  type: string,
): conversation.StoredEvent {
  const payload = events.ConversationEvent.encode({
    conversationId: '',
    tenantId: '',
    version: 0,
    occurredAtMs: Date.now(),
    event: body,
  }).finish();
  const metadata = { correlationId: '', causationId: '', traceparent: '', idempotencyKey: '' };
  return {
    eventId: randomUUID(),
    conversationId: '',
    tenantId: '',
    version: 0,
    globalPosition: 0,
    type,
    schemaVersion: 0,
    payload: Buffer.from(payload),
    metadata,
    occurredAtMs: 0,
  };
}

/** One user turn and its answer as two events, the way a router records a finished turn. */
function turnEvents(turn: number): conversation.StoredEvent[] {
  const turnId = randomUUID();
  const question = `Turn ${turn}: could you summarise the previous answer in two sentences, please?`;
  const answer = `Sure. Turn ${turn} answer: the previous answer said the plan is sound, and that the numbers add up.`;
  return [
    stored(
      {
        $case: 'userMessageAppended',
        value: { turnId, messages: [message(question)], idempotencyKey: '' },
      },
      'UserMessageAppended',
    ),
    stored(
      {
        $case: 'assistantMessageCompleted',
        value: {
          turnId,
          content: answer,
          shardId: 'shard-1',
          finishReason: common.FinishReason.FINISH_REASON_STOP,
          usage: undefined,
          failovers: 0,
        },
      },
      'AssistantMessageCompleted',
    ),
  ];
}

async function startService(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    // BENCH_SERVICE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the service.
    [
      ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--import',
      '@spillway/telemetry/register',
      'dist/main.js',
    ],
    {
      // BENCH_SERVICE_DIR: another build of the service (e.g. a copy of the previous commit's
      // dist with its own node_modules), for A/B runs back to back.
      cwd: process.env.BENCH_SERVICE_DIR ?? `${root}services/conversation-state`,
      env: { ...process.env, GRPC_PORT: '0', KAFKA_BROKERS: brokers.join(','), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`conversation-state not ready:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /conversation-state listening on [\d.]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) =>
      reject(new Error(`conversation-state exited with ${code}:\n${output}`)),
    );
  }).catch((error: unknown) => {
    child.kill('SIGKILL'); // not left running when it never became ready
    throw error;
  });
  return { child, port };
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc: unlike throughput, CPU per
 * event hardly moves with what else the shared machine runs. NaN where /proc is missing.
 */
function cpuSeconds(pid: number | undefined): number {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/** Pids of the Kafka broker (the JVM whose main class is kafka.Kafka), from /proc. */
function kafkaPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * CPU of everything that serves the event store during a phase, not only our two processes: the
 * PostgreSQL backends connected to the bench's database (another session's backends are not
 * counted; the server's shared WAL writer and checkpointer are not either), the Kafka broker (shared
 * with other sessions' topics, so an upper bound) and this bench process (32 writer loops and the
 * lag consumer).
 */
class MachineCpu {
  private readonly before = new Map<number, number>();
  private benchBefore = process.cpuUsage();
  private commitsBefore = 0;
  private checkpointsBefore = 0;

  constructor(
    private readonly db: pg.Client,
    private readonly database: string,
  ) {}

  private async backendPids(): Promise<number[]> {
    const { rows } = await this.db.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [this.database],
    );
    return rows.map((row) => row.pid);
  }

  /** Transactions committed in the bench's database (appends, relay reads and marks). */
  private async commits(): Promise<number> {
    // Backends report their counts within a second or so; wait for that before reading.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await this.db.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await this.db.query<{ commits: string }>(
      'SELECT xact_commit::text AS commits FROM pg_stat_database WHERE datname = $1',
      [this.database],
    );
    return Number(rows[0]?.commits ?? NaN);
  }

  /**
   * Checkpoints the server has run so far, the bench's and everyone else's (each DROP DATABASE
   * of another session's test suite forces one): after each, the first change to every page
   * writes the whole page to the WAL, which shows in the backends' CPU.
   */
  private async checkpoints(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'SELECT (checkpoints_timed + checkpoints_req)::text AS n FROM pg_stat_bgwriter',
    );
    return Number(rows[0]?.n ?? NaN);
  }

  async start(): Promise<void> {
    this.commitsBefore = await this.commits();
    this.checkpointsBefore = await this.checkpoints();
    this.before.clear();
    for (const pid of [...(await this.backendPids()), ...kafkaPids()])
      this.before.set(pid, cpuSeconds(pid));
    this.benchBefore = process.cpuUsage();
  }

  /** CPU seconds since start(): a backend that ended meanwhile is missing (pools keep theirs). */
  async stop(): Promise<{
    postgres: number;
    kafka: number;
    bench: number;
    commits: number;
    checkpoints: number;
  }> {
    const since = (pid: number): number => {
      const now = cpuSeconds(pid);
      return Number.isNaN(now) ? 0 : now - (this.before.get(pid) ?? 0);
    };
    const postgres = (await this.backendPids()).reduce((sum, pid) => sum + since(pid), 0);
    const kafka = kafkaPids().reduce((sum, pid) => sum + since(pid), 0);
    const { user, system } = process.cpuUsage(this.benchBefore);
    const bench = (user + system) / 1e6;
    const commits = (await this.commits()) - this.commitsBefore;
    return {
      postgres,
      kafka,
      bench,
      commits,
      checkpoints: (await this.checkpoints()) - this.checkpointsBefore,
    };
  }
}

async function stopService(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function startConversation(client: Client, tenantId: string): Promise<string> {
  const response = await client.startConversation({
    tenantId,
    conversationId: '',
    model: 'llama-3-8b',
    systemPrompt: 'You are a concise assistant.',
    labels: {},
    metadata: undefined,
  });
  return response.conversationId;
}

interface AppendPhase {
  readonly mode: string;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly appendLatencyMs: { readonly p50: number; readonly p99: number };
}

/**
 * CONVERSATIONS writers, each appending batches back to back at its expected version to one
 * conversation, moving to a new conversation after TURNS_PER_CONVERSATION turns (a long chat), until
 * the phase's event count or time limit.
 */
async function appendBatches(
  client: Client,
  tenantId: string,
  batchEvents: number,
  pace?: { readonly eventsPerSecond: number; readonly phaseMs: number },
): Promise<AppendPhase> {
  const perWriter = Math.ceil(
    (pace ? (pace.eventsPerSecond * pace.phaseMs) / 1000 : TARGET_EVENTS) / CONVERSATIONS,
  );
  // Paced: each writer offers one batch every `intervalMs`, on a fixed schedule (not after the last
  // answer), so the offered rate is the target's whatever the latency.
  const intervalMs = pace ? (CONVERSATIONS * batchEvents * 1000) / pace.eventsPerSecond : 0;
  const latencies: number[] = [];
  let appended = 0;
  const started = performance.now();
  const deadline = started + (pace ? pace.phaseMs + 5_000 : PHASE_LIMIT_MS);
  await Promise.all(
    Array.from({ length: CONVERSATIONS }, async (_, writer) => {
      let written = 0;
      let sent = 0;
      while (written < perWriter && performance.now() < deadline) {
        const conversationId = await startConversation(client, tenantId);
        let version = 1;
        let turn = 0;
        while (
          turn < TURNS_PER_CONVERSATION &&
          written < perWriter &&
          performance.now() < deadline
        ) {
          const batch: conversation.StoredEvent[] = [];
          while (batch.length < batchEvents) batch.push(...turnEvents(++turn));
          if (pace) {
            // Writers start spread over one interval, then keep their own schedule.
            const due = started + (writer / CONVERSATIONS + sent) * intervalMs;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
            sent++;
          }
          const t0 = performance.now();
          const response = await client.appendEvents({
            tenantId,
            conversationId,
            expectedVersion: version,
            events: batch,
          });
          latencies.push(performance.now() - t0);
          version = response.nextVersion;
          written += batch.length;
          appended += batch.length;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    mode: pace
      ? `AppendEvents, ${batchEvents} events per call, offered at ${pace.eventsPerSecond}/s`
      : `AppendEvents, ${batchEvents} events per call`,
    events: appended,
    seconds: round(seconds),
    eventsPerSecond: Math.round(appended / seconds),
    appendLatencyMs: {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
    },
  };
}

/** The command path: AppendUserMessage then CompleteAssistantMessage, one event per RPC. */
async function appendCommands(client: Client, tenantId: string): Promise<AppendPhase> {
  const conversations = await Promise.all(
    Array.from({ length: CONVERSATIONS }, () => startConversation(client, tenantId)),
  );
  const latencies: number[] = [];
  let appended = 0;
  const started = performance.now();
  const deadline = started + Math.min(PHASE_LIMIT_MS, 8_000);
  const metadata = undefined;
  await Promise.all(
    conversations.map(async (conversationId) => {
      for (let turn = 1; turn <= TURNS_PER_CONVERSATION && performance.now() < deadline; turn++) {
        let t0 = performance.now();
        const user = await client.appendUserMessage({
          tenantId,
          conversationId,
          turnId: '',
          messages: [message(`Turn ${turn}: a question?`)],
          idempotencyKey: `${conversationId}:${turn}`,
          metadata,
        });
        latencies.push(performance.now() - t0);
        t0 = performance.now();
        await client.completeAssistantMessage({
          tenantId,
          conversationId,
          turnId: user.turnId,
          content: `Turn ${turn}: an answer.`,
          shardId: 'shard-1',
          finishReason: common.FinishReason.FINISH_REASON_STOP,
          usage: undefined,
          failovers: 0,
          metadata,
        });
        latencies.push(performance.now() - t0);
        appended += 2;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    mode: 'command RPCs, 1 event per call',
    events: appended,
    seconds: round(seconds),
    eventsPerSecond: Math.round(appended / seconds),
    appendLatencyMs: {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
    },
  };
}

async function contextReads(
  client: Client,
  tenantId: string,
  conversationId: string,
  tokenBudget: number,
) {
  const latencies: number[] = [];
  let last: conversation.GetContextResponse | undefined;
  for (let index = 0; index < CONTEXT_WARMUP_READS; index++)
    await client.getContext({ tenantId, conversationId, tokenBudget });
  for (let index = 0; index < CONTEXT_READS; index++) {
    const t0 = performance.now();
    last = await client.getContext({ tenantId, conversationId, tokenBudget });
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);
  return {
    tokenBudget,
    warmupReads: CONTEXT_WARMUP_READS,
    reads: CONTEXT_READS,
    messages: last?.messages.length ?? 0,
    droppedMessages: last?.droppedMessages ?? 0,
    estimatedTokens: last?.estimatedTokens ?? 0,
    latencyMs: {
      p50: round(percentile(latencies, 50), 3),
      p99: round(percentile(latencies, 99), 3),
    },
  };
}

/**
 * The same transaction shape without the service (no gRPC, decider, TypeORM or relay): BEGIN, a
 * BATCH-row insert, a BATCH-row outbox-like insert, pg_notify, COMMIT, from 16 connections for
 * 5 s. The ceiling this PostgreSQL gives right now, to read the service's figure against.
 */
async function postgresCeiling(databaseUrl: string) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 16 });
  await pool.query('CREATE TABLE ceiling_events (id bigserial PRIMARY KEY, k text, v bytea)');
  await pool.query('CREATE TABLE ceiling_outbox (id bigserial PRIMARY KEY, k text, v bytea)');
  const rows = Array.from({ length: BATCH }, () => Buffer.alloc(200));
  const result: Record<string, number> = {};
  for (const notify of [false, true]) {
    let transactions = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, writer) => {
        while (performance.now() - started < 5_000) {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            await client.query(
              'INSERT INTO ceiling_events (k, v) SELECT $1, v FROM unnest($2::bytea[]) v',
              [`k${writer}`, rows],
            );
            await client.query(
              'INSERT INTO ceiling_outbox (k, v) SELECT $1, v FROM unnest($2::bytea[]) v',
              [`k${writer}`, rows],
            );
            if (notify) await client.query(`SELECT pg_notify('ceiling', '')`);
            await client.query('COMMIT');
          } finally {
            client.release();
          }
          transactions++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    result[notify ? 'eventsPerSecondWithNotify' : 'eventsPerSecondWithoutNotify'] = Math.round(
      (transactions * BATCH) / seconds,
    );
  }
  await pool.query('DROP TABLE ceiling_events, ceiling_outbox');
  await pool.end();
  return result;
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg().map((value) => round(value));
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  // Undone in reverse order however the run ends, so that a service that fails to start leaves no
  // database, topic or process behind.
  const undo: (() => unknown)[] = [
    () => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  ];
  try {
    // Taken by every session that connects afterwards: the services', the relay's and the bench's.
    for (const [name, value] of DATABASE_SETTINGS)
      await admin.query(`ALTER DATABASE ${database} SET ${name} = '${value}'`);
    const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString();
    const messaging = createKafkaMessaging({
      brokers,
      clientId: 'bench-event-store',
      source: '/spillway/bench',
      logger: silentLogger,
      consumer: { maxWaitTimeMs: 20 },
    });
    const topicAdmin = await messaging.connectTopicAdmin();
    undo.push(() => topicAdmin.close());
    await topicAdmin.ensureTopics([{ name: topic, partitions: 6 }]);
    undo.push(async () => {
      await topicAdmin.deleteConsumerGroups([`bench.${suffix}.lag`]).catch(() => undefined);
      await topicAdmin.deleteTopics([topic]);
    });
    const env = {
      DATABASE_URL: databaseUrl,
      CONVERSATION_EVENTS_TOPIC: topic,
      SNAPSHOT_EVERY: '50',
      DATABASE_POOL_SIZE: '16',
    };
    const ceiling = await postgresCeiling(databaseUrl);
    // RELAY=separate (default): the writer replica serves gRPC and a second replica relays the outbox,
    // as a deployment would run them; RELAY=inline: one process does both.
    const separateRelay = (process.env.RELAY ?? 'separate') === 'separate';
    const service = await startService({
      ...env,
      OUTBOX_RELAY_ENABLED: separateRelay ? 'false' : 'true',
    });
    undo.push(() => stopService(service.child));
    const relay = separateRelay
      ? await startService({ ...env, OUTBOX_RELAY_ENABLED: 'true' })
      : undefined;
    if (relay) undo.push(() => stopService(relay.child));
    const client: Client = createGrpcClient(
      conversation.ConversationStoreDefinition,
      `127.0.0.1:${service.port}`,
      { defaultDeadlineMs: 30_000 },
    );
    undo.push(() => client.close());

    // Lag: every event the relay publishes, received by a consumer group reading from the start.
    const lags: { receivedAt: number; lagMs: number; id: string }[] = [];
    const subscriber = messaging.createSubscriber({
      groupId: `bench.${suffix}.lag`,
      fromBeginning: true,
    });
    subscriber.subscribe(
      defineTopic(topic, eventCodec('ConversationEvent')),
      async ({ event, metadata }) => {
        const now = Date.now();
        lags.push({ receivedAt: now, lagMs: now - event.occurredAtMs, id: metadata.id });
      },
    );
    await subscriber.start();
    undo.push(() => subscriber.stop());

    const outbox = new pg.Client({ connectionString: databaseUrl });
    await outbox.connect();
    undo.push(() => outbox.end());
    const machineCpu = new MachineCpu(outbox, database);
    /** Waits (at most 20 s) until the relay has published every outbox row. */
    const drained = async (): Promise<void> => {
      const drainDeadline = Date.now() + 20_000;
      while (Date.now() < drainDeadline) {
        const { rows } = await outbox.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
        );
        if (rows[0]?.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    await appendBatches(client, 'bench-warmup', BATCH); // JIT, pools, partitions leaders
    await drained();
    await machineCpu.start();
    const batchedFrom = Date.now();
    const cpuBefore = [service.child.pid, relay?.child.pid].map(cpuSeconds);
    const batched = await appendBatches(client, 'bench', BATCH);
    const batchedTo = Date.now();
    const writerCpu = cpuSeconds(service.child.pid) - (cpuBefore[0] ?? NaN);
    const relayCpu = cpuSeconds(relay?.child.pid) - (cpuBefore[1] ?? NaN);
    // Let the relay finish the phase's rows before its CPU is read: it lags the writers.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const relayCpuAfterDrain = cpuSeconds(relay?.child.pid) - (cpuBefore[1] ?? NaN);
    const batchedMachineCpu = await machineCpu.stop();
    const commands = await appendCommands(client, 'bench-commands');

    /** Lets the relay drain, then measures the lag of the events appended between `from` and `to`. */
    const lagOf = async (from: number, to: number) => {
      await drained();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const inPhase = lags.filter((lag) => lag.receivedAt >= from && lag.receivedAt <= to + 5_000);
      const occurred = inPhase.map((lag) => lag.lagMs).sort((a, b) => a - b);
      // Published rows stay in the outbox (for an hour): created_at is when the append wrote them.
      const { rows: written } = await outbox.query<{ id: string; created_ms: number }>(
        `SELECT event_id::text AS id, extract(epoch FROM created_at) * 1000 AS created_ms FROM outbox
          WHERE created_at BETWEEN to_timestamp($1::double precision / 1000)
                               AND to_timestamp($2::double precision / 1000)`,
        [from, to],
      );
      const createdAt = new Map(written.map((row) => [row.id, Number(row.created_ms)]));
      // The relay's side alone: from the row's insert to its published_at, which the relay sets to
      // the moment Kafka acknowledged the batch (since session 5; before, to when the mark ran).
      const { rows: acknowledged } = await outbox.query<{ ms: number }>(
        `SELECT extract(epoch FROM published_at - created_at) * 1000 AS ms FROM outbox
          WHERE published_at IS NOT NULL
            AND created_at BETWEEN to_timestamp($1::double precision / 1000)
                               AND to_timestamp($2::double precision / 1000)`,
        [from, to],
      );
      const toKafka = acknowledged.map((row) => Number(row.ms)).sort((a, b) => a - b);
      const toConsumer = inPhase
        .flatMap((lag) => {
          const created = createdAt.get(lag.id);
          return created === undefined ? [] : [lag.receivedAt - created];
        })
        .sort((a, b) => a - b);
      return { occurred, toKafka, toConsumer };
    };
    const summary = (values: readonly number[]) => ({
      events: values.length,
      p50: round(percentile(values, 50)),
      p99: round(percentile(values, 99)),
      max: round(values.at(-1) ?? NaN),
    });
    const batchedLag = await lagOf(batchedFrom, batchedTo);
    const phaseLags = batchedLag.occurred;
    const acknowledgedLags = batchedLag.toKafka;
    const outboxLags = batchedLag.toConsumer;

    // The target's rate: appends offered at PACED_EVENTS_PER_SECOND, and the lag at that rate.
    await drained();
    await machineCpu.start();
    const pacedFrom = Date.now();
    const pacedCpuBefore = [service.child.pid, relay?.child.pid].map(cpuSeconds);
    const paced = await appendBatches(client, 'bench-paced', BATCH, {
      eventsPerSecond: PACED_EVENTS_PER_SECOND,
      phaseMs: PACED_PHASE_MS,
    });
    const pacedTo = Date.now();
    await drained();
    const pacedServiceCpu = {
      writer: cpuSeconds(service.child.pid) - (pacedCpuBefore[0] ?? NaN),
      relay: cpuSeconds(relay?.child.pid) - (pacedCpuBefore[1] ?? NaN),
    };
    const {
      commits: pacedCommits,
      checkpoints: pacedCheckpoints,
      ...pacedMachineCpu
    } = await machineCpu.stop();
    const pacedCpu = { ...pacedServiceCpu, ...pacedMachineCpu };
    const pacedLag = await lagOf(pacedFrom, pacedTo);

    // A 200-turn conversation, appended in router-sized batches.
    const tenantId = 'bench-context';
    const conversationId = await startConversation(client, tenantId);
    let version = 1;
    for (let turn = 1; turn <= CONTEXT_TURNS; turn += 5) {
      const batch = Array.from({ length: 5 }, (_, index) => turnEvents(turn + index)).flat();
      version = (
        await client.appendEvents({
          tenantId,
          conversationId,
          expectedVersion: version,
          events: batch,
        })
      ).nextVersion;
    }
    const warm = {
      all: await contextReads(client, tenantId, conversationId, 1_000_000),
      budget4k: await contextReads(client, tenantId, conversationId, 4_096),
    };
    // A second replica with no state cache reads every time from the latest snapshot plus the tail.
    const cold = await startService({
      ...env,
      STATE_CACHE_SIZE: '0',
      OUTBOX_RELAY_ENABLED: 'false',
    });
    const coldClient: Client = createGrpcClient(
      conversation.ConversationStoreDefinition,
      `127.0.0.1:${cold.port}`,
      { defaultDeadlineMs: 30_000 },
    );
    const snapshotOnly = {
      all: await contextReads(coldClient, tenantId, conversationId, 1_000_000),
      budget4k: await contextReads(coldClient, tenantId, conversationId, 4_096),
    };
    coldClient.close();
    await stopService(cold.child);

    const report = {
      benchmark: 'event-store',
      node: process.version,
      machine: { cpus: os.cpus().length },
      setup: {
        conversations: CONVERSATIONS,
        turnsPerConversation: TURNS_PER_CONVERSATION,
        relay: separateRelay ? 'separate process' : 'in the writer process',
        batchEvents: BATCH,
        targetEvents: TARGET_EVENTS,
        phaseLimitMs: PHASE_LIMIT_MS,
        snapshotEvery: 50,
        topicPartitions: 6,
      },
      // What else was running: the machine is shared, and every figure moves with it.
      loadAverage: { atStart: loadAtStart, atEnd: os.loadavg().map((value) => round(value)) },
      databaseSettings: Object.fromEntries(DATABASE_SETTINGS),
      postgresCeiling: ceiling,
      appends: { batched, commands, paced },
      // Service CPU per 1,000 events of the batched phase (the relay's includes its 2 s to drain).
      cpuMsPer1000Events: {
        writer: round((writerCpu * 1e6) / batched.events),
        relay: round(((separateRelay ? relayCpuAfterDrain : NaN) * 1e6) / batched.events),
        writerCpuSeconds: round(writerCpu),
        relayCpuSeconds: round(relayCpu),
        // The rest of the machine's share (see MachineCpu), including the relay's 2 s to drain.
        postgresBackends: round((batchedMachineCpu.postgres * 1e6) / batched.events),
        kafkaBroker: round((batchedMachineCpu.kafka * 1e6) / batched.events),
        benchProcess: round((batchedMachineCpu.bench * 1e6) / batched.events),
      },
      // PostgreSQL transactions (statements, mostly) per 1,000 events: appends, relay reads, marks.
      commitsPer1000Events: {
        batched: round((batchedMachineCpu.commits * 1e3) / batched.events),
        paced: round((pacedCommits * 1e3) / paced.events),
      },
      // Server-wide checkpoints during each phase (see MachineCpu.checkpoints).
      checkpoints: { batched: batchedMachineCpu.checkpoints, paced: pacedCheckpoints },
      // From the outbox row's insert (the append's commit) to the consumer.
      outboxToKafkaLagMs: {
        events: outboxLags.length,
        p50: round(percentile(outboxLags, 50)),
        p99: round(percentile(outboxLags, 99)),
        max: round(outboxLags.at(-1) ?? NaN),
      },
      // From the outbox row's insert to Kafka's acknowledgement (published_at, stamped at the ack).
      outboxToKafkaAckMs: {
        events: acknowledgedLags.length,
        p50: round(percentile(acknowledgedLags, 50)),
        p99: round(percentile(acknowledgedLags, 99)),
        max: round(acknowledgedLags.at(-1) ?? NaN),
      },
      // From the event's occurred_at (set before the append call) to the consumer: includes the
      // append's own latency. The figure reported as "outbox lag" until 2026-11-22.
      occurredToKafkaLagMs: {
        events: phaseLags.length,
        p50: percentile(phaseLags, 50),
        p99: percentile(phaseLags, 99),
        max: phaseLags.at(-1) ?? NaN,
      },
      // The same lags with appends offered at the target's rate rather than as fast as they go.
      atTargetRate: {
        eventsPerSecondOffered: PACED_EVENTS_PER_SECOND,
        eventsPerSecondDone: paced.eventsPerSecond,
        outboxToKafkaAckMs: summary(pacedLag.toKafka),
        outboxToKafkaLagMs: summary(pacedLag.toConsumer),
        // CPU per 1,000 events of the paced phase, until the relay has published all of them.
        cpuMsPer1000Events: Object.fromEntries(
          Object.entries(pacedCpu).map(([name, seconds]) => [
            name,
            round((seconds * 1e6) / paced.events),
          ]),
        ),
      },
      context200Turns: { version, warmCache: warm, snapshotPlusTail: snapshotOnly },
      targets: { appendsPerSecond: 5_000, lagP99Ms: 100, context200TurnsMs: 5 },
    };
    writeFileSync(`${root}bench/results/event-store.json`, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
  } finally {
    for (const step of undo.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
    await admin.end();
  }
}

await main();
