import { silentLogger } from '@spillway/messaging';
import pg from 'pg';
import {
  createTestTopics,
  startPrivateKafka,
  startPrivatePostgres,
  type PrivateKafka,
  type PrivatePostgres,
} from '../src/index.js';

describe('startPrivatePostgres', () => {
  let server: PrivatePostgres | undefined;
  afterAll(async () => {
    await server?.cleanup();
  }, 60_000);

  it('starts a server of its own that keeps committed rows across a restart', async () => {
    server = await startPrivatePostgres();
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    expect(server.port).not.toBe(5432);
    const query = async (sql: string): Promise<pg.QueryResult> => {
      const client = new pg.Client({ connectionString: server!.url });
      await client.connect();
      try {
        return await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await query('CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (1), (2)');
    await server.restart('immediate');
    expect(server.running).toBe(true);
    expect((await query('SELECT count(*)::int AS n FROM kept')).rows[0]).toEqual({ n: 2 });
    await server.stop();
    expect(server.running).toBe(false);
    await expect(query('SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
  }, 180_000);
});

describe('startPrivateKafka', () => {
  let broker: PrivateKafka | undefined;
  afterAll(async () => {
    await broker?.cleanup();
  }, 60_000);

  it('starts a broker of its own whose topics survive a restart', async () => {
    broker = await startPrivateKafka();
    expect(broker.brokers[0]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(broker.brokers[0]).not.toBe('127.0.0.1:19092');
    const topics = await createTestTopics(
      { kept: 1 },
      { brokers: broker.brokers, logger: silentLogger },
    );
    await topics.admin.close();
    await broker.restart();
    const again = await createTestTopics(
      { probe: 1 },
      { brokers: broker.brokers, logger: silentLogger },
    );
    try {
      expect(await again.admin.listTopics()).toContain(topics.names.kept);
    } finally {
      await again.cleanup();
    }
    // Two JVM starts on a shared 2-core machine; each start is bounded by the helper itself.
  }, 300_000);
});
