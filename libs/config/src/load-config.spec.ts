import { ConfigError, env, loadConfig, z } from './index.js';

const schema = z.object({
  KAFKA_BROKERS: env.hostPortList('127.0.0.1:19092'),
  GRPC_PORT: env.port(50051),
  DATABASE_URL: env.postgresUrl('postgres://postgres@127.0.0.1:5432/x'),
  SHARD_ID: z.string().min(1),
});

describe('loadConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = loadConfig('svc', schema, { SHARD_ID: 'shard-a' });
    expect(config).toEqual({
      KAFKA_BROKERS: ['127.0.0.1:19092'],
      GRPC_PORT: 50051,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
      SHARD_ID: 'shard-a',
    });
  });

  it('names a missing required variable', () => {
    expect(() => loadConfig('svc', schema, {})).toThrow(/SHARD_ID is not set/);
  });

  it.each([
    ['GRPC_PORT', 'seventy', /GRPC_PORT has value "seventy"/],
    ['GRPC_PORT', '70000', /GRPC_PORT has value "70000"/],
    ['KAFKA_BROKERS', 'localhost', /KAFKA_BROKERS has value "localhost".*host:port/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL has value "mysql:\/\/x".*postgres/],
  ])('names a bad %s=%s', (name, value, message) => {
    const attempt = () => loadConfig('svc', schema, { SHARD_ID: 's', [name]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig('svc', schema, { GRPC_PORT: '-1' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toHaveLength(2);
    }
  });
});
