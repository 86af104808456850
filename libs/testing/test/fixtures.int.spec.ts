import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  createTestDatabase,
  createTestSchema,
  createTestTopics,
  freePort,
  redisKeyPrefix,
  startChildProcess,
  testInfrastructure,
  waitFor,
} from '../src/index.js';

describe('createTestTopics', () => {
  it('creates uniquely named topics with their partitions and deletes them on cleanup', async () => {
    const topics = await createTestTopics({ load: 3, events: 1 }, { prefix: 'fixture' });
    const names = Object.values(topics.names);
    try {
      expect(topics.names.load).toMatch(/^fixture\.[0-9a-f]{8}\.load$/);
      expect(await topics.admin.listTopics()).toEqual(expect.arrayContaining(names));
      expect(topics.groupId('a')).not.toBe(topics.groupId('a'));
    } finally {
      await topics.cleanup();
    }
    const other = await createTestTopics({ probe: 1 });
    try {
      await waitFor(
        async () => !(await other.admin.listTopics()).some((name) => names.includes(name)),
        {
          description: 'the deleted topics to disappear',
        },
      );
    } finally {
      await other.cleanup();
    }
  });
});

describe('createTestDatabase', () => {
  it('creates a private database and drops it even with connections open', async () => {
    const database = await createTestDatabase();
    expect(database.name).toMatch(/^spillway_test_[0-9a-f]{8}$/);
    const { rows } = await database.pool.query<{ name: string }>(
      'SELECT current_database() AS name',
    );
    expect(rows[0]!.name).toBe(database.name);
    const straggler = new pg.Client({ connectionString: database.url });
    straggler.on('error', () => undefined); // the drop terminates it
    await straggler.connect();

    const { schema, cleanup } = await createTestSchema(database.pool);
    await database.pool.query(`CREATE TABLE ${schema}.t (id int)`);
    await cleanup();

    await database.cleanup();
    await straggler.end().catch(() => undefined);
    const server = new pg.Client({ connectionString: testInfrastructure.postgresUrl });
    await server.connect();
    try {
      const left = await server.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        database.name,
      ]);
      expect(left.rowCount).toBe(0);
    } finally {
      await server.end();
    }
  });

  it('names the server when it cannot be reached', async () => {
    await expect(
      createTestDatabase({
        serverUrl: 'postgres://postgres@127.0.0.1:1/postgres',
        connectTimeoutMs: 2_000,
      }),
    ).rejects.toThrow(/^PostgreSQL at 127\.0\.0\.1:1 unreachable after \d+ ms/);
  });
});

describe('redisKeyPrefix', () => {
  it('deletes only the keys under its prefix', async () => {
    const redis = new Redis(testInfrastructure.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    await redis.connect();
    const mine = redisKeyPrefix();
    const theirs = redisKeyPrefix();
    try {
      for (let i = 0; i < 1_200; i++) await redis.set(mine.key(`k${i}`), '1');
      await redis.set(theirs.key('kept'), '1');
      expect(await mine.cleanup(redis)).toBe(1_200);
      expect(await redis.exists(mine.key('k0'))).toBe(0);
      expect(await redis.exists(theirs.key('kept'))).toBe(1);
    } finally {
      await mine.cleanup(redis);
      await theirs.cleanup(redis);
      await redis.quit();
    }
  });
});

describe('startChildProcess', () => {
  const node = process.execPath;

  it('resolves when a line says the child is ready, captures output and stops it with a signal', async () => {
    const child = await startChildProcess({
      name: 'echo-child',
      command: node,
      args: [
        '-e',
        "console.log('booting'); setTimeout(() => console.log('ready on 42'), 100); process.on('SIGTERM', () => { console.error('bye'); process.exit(0); }); setInterval(() => undefined, 1000);",
      ],
      readyWhen: (line) => line.startsWith('ready'),
      timeoutMs: 10_000,
    });
    expect(child.output()).toEqual(['booting', 'ready on 42']);
    expect(await child.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(child.output()).toContain('bye');
  });

  it('resolves when a URL answers, and kill() is a SIGKILL', async () => {
    const port = await freePort();
    const child = await startChildProcess({
      command: node,
      args: [
        '-e',
        `setTimeout(() => require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1'), 200);`,
      ],
      readyWhen: { url: `http://127.0.0.1:${port}/` },
      timeoutMs: 10_000,
    });
    expect(await child.kill()).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('gives up after the start timeout, quoting the last output lines, and kills the child', async () => {
    const failure = startChildProcess({
      name: 'never-ready',
      command: node,
      args: ['-e', "console.log('still loading'); setInterval(() => undefined, 1000);"],
      readyWhen: (line) => line === 'ready',
      timeoutMs: 1_000,
    });
    await expect(failure).rejects.toThrow(
      /^never-ready was not ready within 1000 ms; last output:\nstill loading/,
    );
  });

  it('reports a child that exits before it is ready', async () => {
    await expect(
      startChildProcess({
        name: 'crasher',
        command: node,
        args: ['-e', "console.error('missing config'); process.exit(3);"],
        readyWhen: (line) => line === 'ready',
      }),
    ).rejects.toThrow(
      /^crasher exited \(code 3, signal null\) before it was ready; last output:\nmissing config/,
    );
  });
});

describe('waitFor and freePort', () => {
  it('returns the first truthy value of the probe', async () => {
    let calls = 0;
    expect(
      await waitFor(() => (++calls >= 3 ? `after ${calls}` : undefined), {
        description: 'three calls',
        intervalMs: 1,
      }),
    ).toBe('after 3');
  });

  it('names what it waited for when time runs out, with the last error', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('not yet');
        },
        { description: 'the impossible', timeoutMs: 100, intervalMs: 10 },
      ),
    ).rejects.toThrow('Timed out after 100 ms waiting for the impossible; last error: not yet');
  });

  it('finds a port that can be bound', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(port).toBeGreaterThan(0);
  });
});
