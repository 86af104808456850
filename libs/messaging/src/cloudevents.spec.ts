import { CE, cloudEventHeaders, encodeEvent, readCloudEventAttributes } from './cloudevents.js';
import { topics } from './topics.js';

const event = { shardId: 'shard-7', pool: 'a100', load: undefined };

describe('CloudEvents binary-mode attributes', () => {
  const encoded = encodeEvent(
    topics.shardLoad,
    { key: 'shard-7', event, time: new Date('2026-01-02T03:04:05.678Z') },
    '/spillway/test',
    {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
  );

  it('builds every ce_* header and the protobuf content type', () => {
    expect(cloudEventHeaders(encoded)).toEqual({
      ce_specversion: '1.0',
      ce_id: encoded.id,
      ce_type: 'spillway.events.v1.ShardLoadReported',
      ce_source: '/spillway/test',
      ce_time: '2026-01-02T03:04:05.678Z',
      ce_subject: 'shard-7',
      'content-type': 'application/protobuf',
    });
    expect(encoded.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('reads back the attributes of a record of the expected type', () => {
    const read = readCloudEventAttributes(cloudEventHeaders(encoded), encoded.type, 'shard-7');
    expect(read).toEqual({
      ok: true,
      attributes: {
        id: encoded.id,
        type: encoded.type,
        source: '/spillway/test',
        time: encoded.time,
        subject: 'shard-7',
      },
    });
  });

  it('reports a record of another type', () => {
    const read = readCloudEventAttributes(
      cloudEventHeaders(encoded),
      'spillway.events.v1.ScalingDecided',
      'shard-7',
    );
    expect(read).toEqual({
      ok: false,
      problem: {
        kind: 'type-mismatch',
        expected: 'spillway.events.v1.ScalingDecided',
        actual: encoded.type,
      },
    });
  });

  it('reports missing attributes', () => {
    const { [CE.id]: _id, [CE.time]: _time, ...headers } = cloudEventHeaders(encoded);
    expect(readCloudEventAttributes(headers, encoded.type, 'k')).toEqual({
      ok: false,
      problem: { kind: 'missing-attributes', missing: ['ce_id', 'ce_time'] },
    });
  });
});
