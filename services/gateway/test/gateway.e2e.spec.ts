import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OtlpCollector } from './support/otlp-collector.js';
import { MODEL } from './support/fake-chat-service.js';
import { GatewayWorld, postJson } from './support/gateway-world.js';

const gatewayDir = fileURLToPath(new URL('..', import.meta.url));

interface RunningGateway {
  readonly process: ChildProcess;
  readonly baseUrl: string;
  readonly output: () => string;
}

async function startGateway(env: Record<string, string>): Promise<RunningGateway> {
  const child = spawn(
    process.execPath,
    ['--import', '@spillway/telemetry/register', 'dist/main.js'],
    {
      cwd: gatewayDir,
      env: { ...process.env, SPILLWAY_SERVICE: 'gateway', GATEWAY_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString('utf8'));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 60_000);
    child.stdout.on('data', () => {
      const match = /gateway listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${output}`));
    });
  });
  return { process: child, baseUrl, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  child.kill('SIGTERM');
  return exited;
}

describe('gateway (child process, built dist)', () => {
  let collector: OtlpCollector;
  let gateway: RunningGateway;
  let world: GatewayWorld;

  beforeAll(async () => {
    collector = await OtlpCollector.start();
    world = await GatewayWorld.create();
    gateway = await startGateway(
      world.env({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.tracesUrl }),
    );
  });

  afterAll(async () => {
    await stop(gateway.process);
    await collector.stop();
    await world.cleanup();
  });

  it('answers GET /healthz', async () => {
    const response = await fetch(`${gateway.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', service: 'gateway' });
  });

  it('exports a server span that continues the caller trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    await fetch(`${gateway.baseUrl}/healthz`, {
      headers: { traceparent: `00-${traceId}-${parentId}-01` },
    });
    const deadline = Date.now() + 10_000;
    while (!collector.spans.some((s) => s.traceId === traceId) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const span = collector.spans.find((s) => s.traceId === traceId);
    expect(span).toMatchObject({
      serviceName: 'gateway',
      name: 'GET /healthz',
      parentSpanId: parentId,
      attributes: expect.objectContaining({ 'http.response.status_code': 200 }),
    });
  });

  it('answers 404 for an unknown route without a 5xx', async () => {
    const response = await fetch(`${gateway.baseUrl}/no-such-route`);
    expect(response.status).toBe(404);
  });

  it('makes the HTTP server span the parent of the gRPC client span to the router', async () => {
    const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
    await postJson(
      `${gateway.baseUrl}/admin/v1/tenants`,
      undefined,
      { name: 'traced', tier: 'standard', requests_per_minute: 100, tokens_per_minute: 100_000 },
      admin,
    );
    const key = (await (
      await postJson(`${gateway.baseUrl}/admin/v1/tenants/traced/keys`, undefined, {}, admin)
    ).json()) as { api_key: string };

    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const callerSpanId = 'b7ad6b7169203331';
    const response = await postJson(
      `${gateway.baseUrl}/v1/chat/completions`,
      key.api_key,
      { model: MODEL.default, messages: [{ role: 'user', content: 'trace me' }], stream: true },
      { traceparent: `00-${traceId}-${callerSpanId}-01` },
    );
    expect(response.status).toBe(200);
    await response.text();

    const deadline = Date.now() + 10_000;
    const find = () => ({
      server: collector.spans.find(
        (s) => s.traceId === traceId && s.name === 'POST /v1/chat/completions',
      ),
      client: collector.spans.find(
        (s) => s.traceId === traceId && s.name === 'spillway.chat.v1.ChatService/Converse',
      ),
    });
    while ((!find().server || !find().client) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const { server, client } = find();
    expect(server).toMatchObject({
      serviceName: 'gateway',
      kind: 2,
      parentSpanId: callerSpanId,
      attributes: expect.objectContaining({ 'http.response.status_code': 200 }),
    });
    expect(client).toMatchObject({
      serviceName: 'gateway',
      kind: 3,
      parentSpanId: server!.spanId,
      attributes: expect.objectContaining({ 'rpc.method': 'Converse' }),
    });
    // The router received the client span as its parent.
    const received = world.router.turns.find((t) => t.traceparent?.includes(traceId));
    expect(received?.traceparent).toBe(`00-${traceId}-${client!.spanId}-01`);
  });
});

describe('admin CLI (built dist)', () => {
  let world: GatewayWorld;

  beforeAll(async () => {
    world = await GatewayWorld.create();
  });

  afterAll(async () => {
    await world.cleanup();
  });

  function admin(
    ...args: string[]
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['dist/admin.js', ...args], {
      cwd: gatewayDir,
      env: { ...process.env, DATABASE_URL: world.database.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    return new Promise((resolve) =>
      child.once('exit', (code) => resolve({ code, stdout, stderr })),
    );
  }

  it('creates a tenant and a key that the gateway accepts, and revokes it', async () => {
    const tenant = await admin(
      'create-tenant',
      '--name',
      'acme',
      '--tier',
      'standard',
      '--rpm',
      '600',
      '--tpm',
      '200000',
    );
    expect(tenant).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        /created tenant acme \(ten_\w+\) tier=standard rpm=600 tpm=200000/,
      ),
    });

    const created = await admin('create-key', '--tenant', 'acme', '--json');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; api_key: string; prefix: string };
    expect(key.api_key).toMatch(/^sk-spw-[0-9A-Za-z]{52}$/);

    const gateway = await world.startGateway();
    const models = (): Promise<Response> =>
      fetch(`${gateway.baseUrl}/v1/models`, {
        headers: { authorization: `Bearer ${key.api_key}` },
      });
    expect((await models()).status).toBe(200);

    const listed = await admin('list-keys', '--tenant', 'acme');
    expect(listed.stdout).toContain(`${key.prefix}… active`);
    expect(listed.stdout).not.toContain(key.api_key);

    const revoked = await admin('revoke-key', '--key', key.prefix);
    expect(revoked).toMatchObject({ code: 0, stdout: expect.stringContaining('revoked') });
    expect((await models()).status).toBe(401);
  });

  it('names the problem and exits non-zero on bad input', async () => {
    expect(
      await admin('create-tenant', '--name', 'bad', '--tier', 'gold', '--rpm', '1', '--tpm', '1'),
    ).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("Unknown tier 'gold'"),
    });
    expect(
      await admin(
        'create-tenant',
        '--name',
        'bad',
        '--tier',
        'free',
        '--rpm',
        'lots',
        '--tpm',
        '1',
      ),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--rpm must be a whole number; got 'lots'"),
    });
    expect(await admin('create-key')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--tenant is required'),
    });
    expect(await admin('frobnicate')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown command 'frobnicate'"),
    });
  });
});

describe('gateway configuration', () => {
  it.each([
    ['GATEWAY_PORT', 'eighty', /GATEWAY_PORT has value "eighty"/],
    ['GATEWAY_BODY_LIMIT_BYTES', '-5', /GATEWAY_BODY_LIMIT_BYTES has value "-5"/],
    ['SPILLWAY_TRACE_EXPORTER', 'jaeger', /SPILLWAY_TRACE_EXPORTER has value "jaeger"/],
  ])('refuses to start with %s=%s and names it', async (name, value, message) => {
    const child = spawn(
      process.execPath,
      ['--import', '@spillway/telemetry/register', 'dist/main.js'],
      {
        cwd: gatewayDir,
        env: { ...process.env, GATEWAY_PORT: '0', [name]: value },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
  });
});
