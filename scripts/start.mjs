#!/usr/bin/env node
// The one start command (`npm start`): infrastructure, a build, then every service as a child
// process in dependency order. Prints where to talk to the system; Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, createWriteStream } from 'node:fs';
import { ports, services } from './system.mjs';

const root = new URL('..', import.meta.url).pathname;
const logDir = process.env.SPILLWAY_LOG_DIR ?? `${root}.spillway/logs`;
mkdirSync(logDir, { recursive: true });
const started = Date.now();
const children = [];
/** V8's young-generation semi-space per service process, MB (see startService). */
const semiSpaceMb = positiveInteger('SPILLWAY_SEMI_SPACE_MB', 2);
let stopping = false;

function step(label, command, args) {
  process.stdout.write(`» ${label}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    process.stderr.write(`✗ ${label} failed (exit ${result.status})\n`);
    process.exit(1);
  }
}

function startService(spec) {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(`${logDir}/${spec.name}.log`);
    // A 2 MB young generation keeps idle services near 130 MB RSS instead of 150–180 MB
    // (bench/src/idle-rss.ts); scavenges stay well under a millisecond at these heap sizes, but
    // under load they are frequent. SPILLWAY_SEMI_SPACE_MB trades memory for CPU per turn
    // (docs/benchmarks.md, gateway section).
    const child = spawn(
      process.execPath,
      [
        `--max-semi-space-size=${semiSpaceMb}`,
        '--import',
        '@spillway/telemetry/register',
        ...spec.args,
      ],
      {
        cwd: `${root}${spec.cwd}`,
        env: { ...process.env, SPILLWAY_SERVICE: spec.service ?? spec.name, ...spec.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push({ spec, child });
    let output = '';
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `${spec.name} not ready after ${spec.readyTimeoutMs ?? 60_000} ms; see ${logDir}/${spec.name}.log`,
          ),
        ),
      spec.readyTimeoutMs ?? 60_000,
    );
    const onData = (chunk) => {
      log.write(chunk);
      if (output !== null) {
        output += chunk.toString('utf8');
        if (spec.ready.test(output)) {
          output = null;
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!stopping) {
        process.stderr.write(
          `✗ ${spec.name} exited (${signal ?? code}); see ${logDir}/${spec.name}.log\n`,
        );
        reject(new Error(`${spec.name} exited`));
        void shutdown(1);
      }
    });
  });
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\n» stopping services…\n');
  // Reverse order: the edge goes first, shards last, so in-flight turns can finish.
  for (const { spec, child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timeout);
    process.stdout.write(`  stopped ${spec.name}\n`);
  }
  process.stdout.write('» Kafka keeps running for the next start (npm run infra:down stops it).\n');
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

step('infrastructure (PostgreSQL, Redis, Kafka)', 'bash', ['deploy/local/up.sh']);
if (process.env.SPILLWAY_SKIP_BUILD !== '1') {
  step('build', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
}
try {
  for (const spec of services) {
    process.stdout.write(`» starting ${spec.name}\n`);
    await startService(spec);
  }
} catch (error) {
  process.stderr.write(`✗ ${error.message}\n`);
  await shutdown(1);
}
const apiKey = demoKey();
const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(`
Spillway is up in ${seconds}s: ${services.filter((s) => s.service === 'gpu-sim').length} simulated GPU shards.
  base URL:  http://127.0.0.1:${ports.gateway}/v1      (OpenAI-compatible)
  API key:   ${apiKey}   (tenant "demo"; a new key each start)
  try:       curl -N http://127.0.0.1:${ports.gateway}/v1/chat/completions -H "authorization: Bearer ${apiKey}" \\
               -H 'content-type: application/json' -d '{"model":"spillway-8b","stream":true,"messages":[{"role":"user","content":"Hello"}]}'
  chat:      SPILLWAY_API_KEY=${apiKey} npm run chat
  router:    127.0.0.1:${ports.router} (gRPC ChatService)     registry: 127.0.0.1:${ports.shardMetadata}
  logs:      ${logDir}/
Press Ctrl-C to stop.
`);

/** Creates the demo tenant once and a fresh key for it on every start (keys are shown only once). */
function demoKey() {
  const admin = (...args) =>
    spawnSync(process.execPath, ['dist/admin.js', ...args, '--json'], {
      cwd: `${root}services/gateway`,
      encoding: 'utf8',
      env: { ...process.env, ...services.find((s) => s.name === 'gateway').env },
    });
  // Exit 1 means the tenant exists already, which is what a second start expects.
  const tenant = admin(
    'create-tenant',
    '--name',
    'demo',
    '--tier',
    'premium',
    '--rpm',
    '6000',
    '--tpm',
    '5000000',
  );
  if (tenant.status !== 0 && tenant.status !== 1) {
    process.stderr.write(`✗ could not create the demo tenant:\n${tenant.stderr}\n`);
    return '(none: see the error above)';
  }
  const key = admin('create-key', '--tenant', 'demo', '--name', 'npm-start');
  if (key.status !== 0) {
    process.stderr.write(`✗ could not create a demo key:\n${key.stderr}\n`);
    return '(none: see the error above)';
  }
  return JSON.parse(key.stdout).api_key;
}

function positiveInteger(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`✗ ${name} must be a whole number of megabytes ≥ 1, got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}
