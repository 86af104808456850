import { type events } from '@spillway/contracts';
import {
  CURRENT_SCHEMA_VERSION,
  upcast,
  userMessageAppendedV1ToV2,
  type StoredBody,
} from './upcasters.js';

const v1Body = (idempotencyKey = '', turnId = ''): events.ConversationEvent => ({
  conversationId: 'c1',
  tenantId: 't1',
  version: 2,
  occurredAtMs: 1,
  event: {
    $case: 'userMessageAppended',
    value: { turnId, messages: [{ role: 2, content: 'hi', name: '' }], idempotencyKey },
  },
});

const stored = (
  body: events.ConversationEvent,
  schemaVersion: number,
  metadataKey = 'meta-key',
): StoredBody => ({
  eventId: '00000000-0000-4000-8000-000000000001',
  type: 'UserMessageAppended',
  schemaVersion,
  body,
  metadata: { correlationId: '', causationId: '', traceparent: '', idempotencyKey: metadataKey },
});

describe('upcasters', () => {
  it('lifts UserMessageAppended v1 to v2: key from the metadata, turn id from the event id', () => {
    const upcast1 = upcast(stored(v1Body(), 1));
    expect(upcast1.event).toEqual({
      $case: 'userMessageAppended',
      value: {
        turnId: '00000000-0000-4000-8000-000000000001',
        messages: [{ role: 2, content: 'hi', name: '' }],
        idempotencyKey: 'meta-key',
      },
    });
  });

  it('keeps what a v1 body already had', () => {
    const lifted = userMessageAppendedV1ToV2.upcast(stored(v1Body('body-key', 'turn-1'), 1));
    expect(lifted.event?.$case === 'userMessageAppended' && lifted.event.value).toMatchObject({
      turnId: 'turn-1',
      idempotencyKey: 'body-key',
    });
  });

  it('leaves current bodies alone', () => {
    const body = v1Body('k', 't');
    expect(upcast(stored(body, CURRENT_SCHEMA_VERSION.UserMessageAppended))).toBe(body);
  });

  it('refuses a body newer than this service reads', () => {
    expect(() => upcast(stored(v1Body(), 3))).toThrow(/newer than this service reads/);
  });
});
