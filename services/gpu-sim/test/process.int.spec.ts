import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest } from '@spillway/testing';
import { planChatReply } from '../src/index.js';
import {
  eventually,
  postJson,
  readSse,
  startChildServer,
  type ChildServer,
} from './gpu-sim.fixture.js';

// The built server as operators start it: `node --import @spillway/telemetry/register dist/main.js`.

const children: ChildServer[] = [];
const socketDir = mkdtempSync(join(tmpdir(), 'gpu-sim-uds-'));

afterAll(() => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  rmSync(socketDir, { recursive: true, force: true });
});

async function start(args: string[], env: Record<string, string> = {}): Promise<ChildServer> {
  const server = await startChildServer(args, env);
  children.push(server);
  return server;
}

describe('gpu-sim as a process', () => {
  it('takes its settings from flags and environment, and becomes healthy after the scaled load time', async () => {
    const server = await start(
      ['--profile', 'llama-3.1-70b-h100x2', '--time-scale', '0.04', '--model-name', 'acme-70b'],
      {
        GPU_SIM_SEED: '5',
      },
    );
    // 150 s load × 0.04 = 6 s: long enough that a slow start on a busy machine still sees 503.
    expect((await fetch(`${server.url}/health`)).status).toBe(503);
    await eventually(async () => (await fetch(`${server.url}/health`)).status === 200, 20_000);
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      data: { id: string }[];
    };
    expect(models.data[0]!.id).toBe('acme-70b');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('dies mid-stream with the die fault: the client sees the stream cut without [DONE]', async () => {
    const server = await start(['--time-scale', '0.001', '--fault', 'die:5']);
    await eventually(async () => (await fetch(`${server.url}/health`)).status === 200, 20_000);
    const response = await postJson(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 50,
      stream: true,
    });
    const data = await readSse(response).catch(() => ['(connection reset)']);
    expect(data).not.toContain('[DONE]');
    const tokens = data.filter((d) => d.includes('"content":"') && !d.includes('"role"'));
    expect(tokens.length).toBeLessThanOrEqual(5);
    expect(await server.exited).toBe(137);
  });

  it('can be told to die through the admin endpoint', async () => {
    const server = await start(['--time-scale', '0.001']);
    await eventually(async () => (await fetch(`${server.url}/health`)).status === 200, 20_000);
    expect(
      (await postJson(`${server.url}/admin/faults`, { mode: 'die', afterTokens: 0 })).status,
    ).toBe(200);
    await postJson(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'hi' }],
    }).catch(() => undefined);
    expect(await server.exited).toBe(137);
  });

  it('drains on SIGTERM: open streams finish, then the process exits 0', async () => {
    // slow:50 at time scale 0.05: ~11 ms of wall time per token, so the stream is open when SIGTERM lands.
    const server = await start(['--time-scale', '0.05', '--fault', 'slow:50']);
    await eventually(async () => (await fetch(`${server.url}/health`)).status === 200, 20_000);
    const messages = [{ role: 'user' as const, content: 'hello' }];
    const response = await postJson(`${server.url}/v1/chat/completions`, {
      messages,
      stream: true,
    });
    const data = await readSse(response, (events) => events.length >= 3);
    server.child.kill('SIGTERM');
    data.push(...(await readSse(response)));
    expect(data.at(-1)).toBe('[DONE]');
    const text = data
      .filter((d) => d !== '[DONE]')
      .map(
        (d) =>
          (JSON.parse(d) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta
            .content ?? '',
      )
      .join('');
    expect(text).toBe(planChatReply({ seed: 0, messages }).text);
    expect(await server.exited).toBe(0);
  });

  it('listens on a Unix domain socket with --uds, reclaiming a stale one and removing it on SIGTERM', async () => {
    const socketPath = join(socketDir, 'engine.sock');
    // What a killed engine leaves behind: a socket file nobody accepts on.
    const crashed = spawn(
      process.execPath,
      [
        '-e',
        `require('node:net').createServer().listen(process.argv[1], () => console.log('up'))`,
        socketPath,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve) => crashed.stdout.once('data', resolve));
    crashed.kill('SIGKILL');
    await new Promise((resolve) => crashed.once('exit', resolve));
    expect(existsSync(socketPath)).toBe(true);

    const server = await start(['--uds', socketPath, '--time-scale', '0.001']);
    expect(server.url).toBe(`unix:${socketPath}`);
    await eventually(
      async () => (await httpRequest({ socketPath }, '/health')).status === 200,
      20_000,
    );
    const messages = [{ role: 'user' as const, content: 'hello' }];
    const reply = await httpRequest({ socketPath }, '/v1/chat/completions', {
      messages,
      stream: true,
      max_tokens: 8,
    });
    expect(reply.status).toBe(200);
    expect(reply.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const text = reply.text
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map(
        (e) =>
          (JSON.parse(e.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]
            ?.delta?.content ?? '',
      )
      .join('');
    expect(text).toBe(planChatReply({ seed: 0, messages, maxTokens: 8 }).text);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('refuses a --uds path that another gpu-sim is listening on, or that is not a socket, naming it', async () => {
    const socketPath = join(socketDir, 'busy.sock');
    const first = await start(['--uds', socketPath, '--time-scale', '0.001']);
    await expect(start(['--uds', socketPath])).rejects.toThrow(
      `another process is listening on ${socketPath}`,
    );
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const notASocket = join(socketDir, 'file.sock');
    writeFileSync(notASocket, '');
    await expect(start(['--uds', notASocket])).rejects.toThrow(
      `${notASocket} exists and is not a socket`,
    );
  });

  it('refuses a bad setting, naming the variable', async () => {
    await expect(start(['--time-scale', '-1'])).rejects.toThrow(/GPU_SIM_TIME_SCALE/);
  });
});
