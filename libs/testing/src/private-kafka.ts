import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startChildProcess, type ChildProcessHandle } from './child-process.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface PrivateKafkaOptions {
  /** Default `-Xms256m -Xmx384m`. */
  readonly heap?: string;
  /** Bound on each start (the JVM on a loaded 2-core machine). Default 90 s. */
  readonly timeoutMs?: number;
}

/** `graceful`: SIGTERM, a controlled shutdown. `kill`: SIGKILL, a crash; the next start recovers. */
export type KafkaStopMode = 'graceful' | 'kill';

export interface PrivateKafka {
  /** `['127.0.0.1:<port>']`. */
  readonly brokers: readonly string[];
  readonly running: boolean;
  stop(mode?: KafkaStopMode): Promise<void>;
  /** Starts the stopped broker again on the same ports and log dir. */
  start(): Promise<void>;
  restart(mode?: KafkaStopMode): Promise<void>;
  /** Stops the broker and deletes its directory. */
  cleanup(): Promise<void>;
  /** The broker's recent output (warnings and above), for failure messages. */
  output(): readonly string[];
}

const READY_LINE = 'Kafka Server started';
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * A single-node KRaft broker of its own (temp log dir, free ports, 127.0.0.1 only), from the jars
 * `deploy/local/kafka.sh` caches, for tests that stop or restart Kafka, which the shared broker
 * on 19092 must never be. The broker is this process's child and dies with it.
 */
export async function startPrivateKafka(options: PrivateKafkaOptions = {}): Promise<PrivateKafka> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const libs = kafkaLibs();
  const classpath = `${libs}/*`;
  const root = await mkdtemp(join(tmpdir(), 'spillway-private-kafka-'));
  const [port, controllerPort] = await twoFreePorts();
  const config = join(root, 'server.properties');
  const log4j = join(root, 'log4j2.properties');
  await writeFile(config, serverProperties(join(root, 'data'), port, controllerPort));
  await writeFile(log4j, LOG4J2);

  try {
    await run(
      'java',
      [
        '-Xmx128m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '--standalone',
        '-t',
        clusterId(),
        '-c',
        config,
      ],
      { timeout: timeoutMs },
    );
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`startPrivateKafka: formatting the log dir failed: ${String(error)}`, {
      cause: error,
    });
  }

  let broker: ChildProcessHandle | undefined;
  let lastOutput: readonly string[] = [];
  const start = async (): Promise<void> => {
    if (broker) return;
    broker = await startChildProcess({
      command: 'java',
      args: [
        ...(options.heap ?? '-Xms256m -Xmx384m').split(' '),
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        config,
      ],
      cwd: root,
      name: `private Kafka on 127.0.0.1:${port}`,
      readyWhen: (line) => line.includes(READY_LINE),
      timeoutMs,
    });
  };
  const stop = async (mode: KafkaStopMode = 'graceful'): Promise<void> => {
    const current = broker;
    broker = undefined;
    if (!current) return;
    lastOutput = current.output();
    if (mode === 'kill') await current.kill();
    else await current.stop('SIGTERM', 30_000);
  };
  try {
    await start();
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return {
    brokers: [`127.0.0.1:${port}`],
    get running() {
      return broker !== undefined;
    },
    stop,
    start,
    restart: async (mode) => {
      await stop(mode);
      await start();
    },
    cleanup: async () => {
      await stop('kill');
      await rm(root, { recursive: true, force: true });
    },
    output: () => broker?.output() ?? lastOutput,
  };
}

/** The jar directory `deploy/local/kafka.sh` resolved for the version its pom pins. */
function kafkaLibs(): string {
  const pom = readFileSync(join(REPO_ROOT, 'deploy/local/kafka/pom.xml'), 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (!version)
    throw new Error('startPrivateKafka: no <kafka.version> in deploy/local/kafka/pom.xml');
  const cache = process.env.SPILLWAY_CACHE ?? join(homedir(), '.cache/spillway');
  const libs = join(cache, `kafka-${version}`, 'libs');
  if (!existsSync(join(cache, `kafka-${version}`, '.resolved')) || !existsSync(libs)) {
    throw new Error(
      `startPrivateKafka: no Kafka ${version} jars in ${libs}; run 'bash deploy/local/kafka.sh start' once`,
    );
  }
  return libs;
}

async function twoFreePorts(): Promise<[number, number]> {
  const first = await freePort();
  for (let attempt = 0; attempt < 10; attempt++) {
    const second = await freePort();
    if (second !== first) return [first, second];
  }
  throw new Error('startPrivateKafka: could not find two free ports');
}

/** A KRaft cluster id: 16 random bytes, base64url; Kafka's own never start with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * The shared broker's settings (deploy/local/kafka/server.properties, as kafka.sh writes them) with
 * this broker's ports and directory, then fewer threads and no auto-created topics: it serves one
 * test. A later key overrides an earlier one in a properties file.
 */
function serverProperties(dataDir: string, port: number, controllerPort: number): string {
  const shared = readFileSync(join(REPO_ROOT, 'deploy/local/kafka/server.properties'), 'utf8')
    .replaceAll('@PORT@', String(port))
    .replaceAll('@CONTROLLER_PORT@', String(controllerPort))
    .replaceAll('@DATA_DIR@', dataDir);
  return `${shared}
# startPrivateKafka: one test's broker.
offsets.topic.num.partitions=3
transaction.state.log.num.partitions=3
auto.create.topics.enable=false
num.network.threads=1
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
`;
}

// Warnings to stdout (kept by the child-process handle), plus the one INFO line that says ready.
const LOG4J2 = `status = warn
name = spillway-private-kafka
shutdownHook = disable
appender.out.type = Console
appender.out.name = OUT
appender.out.target = SYSTEM_OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
logger.ready.name = kafka.server.KafkaRaftServer
logger.ready.level = INFO
`;
