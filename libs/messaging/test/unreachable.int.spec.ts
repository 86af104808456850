import { DomainError } from '@spillway/errors';
import {
  OutboxRelay,
  createKafkaMessaging,
  createPostgresPool,
  silentLogger,
  topics,
  type EncodedEventPublisher,
} from '../src/index.js';

// Nothing listens on port 1: the connection is refused at once, so these tests measure our error
// handling, not the network's timeouts.
const DEAD = '127.0.0.1:1';

describe('unreachable infrastructure', () => {
  const messaging = createKafkaMessaging({
    brokers: [DEAD],
    clientId: 'unreachable-test',
    source: '/spillway/test',
    connectTimeoutMs: 1_000,
    logger: silentLogger,
  });

  it('fails to connect a publisher with an error that names the broker', async () => {
    const failure = messaging.connectPublisher();
    await expect(failure).rejects.toThrow(
      /^Kafka broker\(s\) 127\.0\.0\.1:1 unreachable after \d+ ms: .*ECONNREFUSED/,
    );
    await expect(failure).rejects.toMatchObject({ code: 'DEPENDENCY.UNAVAILABLE' });
  });

  it('fails to connect a topic admin and a subscriber the same way', async () => {
    await expect(messaging.connectTopicAdmin()).rejects.toThrow(
      /^Kafka broker\(s\) 127\.0\.0\.1:1 unreachable after \d+ ms/,
    );
    const subscriber = messaging
      .createSubscriber({ groupId: 'unreachable' })
      .subscribe(topics.shardLoad, async () => undefined);
    await expect(subscriber.start()).rejects.toThrow(
      /^Kafka broker\(s\) 127\.0\.0\.1:1 unreachable after \d+ ms/,
    );
  });

  it('fails to start an outbox relay with an error that names the database host and port', async () => {
    const pool = createPostgresPool(`postgres://postgres@${DEAD}/spillway`, {
      connectTimeoutMs: 2_000,
      logger: silentLogger,
    });
    const publisher: EncodedEventPublisher = { publishEncoded: async () => undefined };
    const relay = new OutboxRelay({
      pool,
      publisher,
      connectTimeoutMs: 2_000,
      logger: silentLogger,
    });
    try {
      const failure = relay.start();
      await expect(failure).rejects.toThrow(
        /^PostgreSQL at 127\.0\.0\.1:1 unreachable after \d+ ms: .*ECONNREFUSED/,
      );
      await expect(failure).rejects.toBeInstanceOf(DomainError);
    } finally {
      await relay.stop();
      await pool.end();
    }
  });
});
