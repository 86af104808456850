import type { ConversationEventProto } from '../protobuf/proto.js';
import type { ConversationEventType } from '../../domain/conversation.events.js';
import type { EventMetadata } from '../../application/ports/conversation-event-store.port.js';

/**
 * The schema version each event type is written with today. Bump one when its body changes in a way
 * readers must know about, and add the upcaster from the previous version below.
 */
export const CURRENT_SCHEMA_VERSION: Readonly<Record<ConversationEventType, number>> = {
  ConversationStarted: 1,
  // v2: the idempotency key is part of the fact (it used to live only in the event's metadata).
  UserMessageAppended: 2,
  AssistantMessageCompleted: 1,
  AssistantMessageFailed: 1,
  ConversationPinned: 1,
  ConversationMigrationStarted: 1,
  ConversationMigrated: 1,
  ConversationClosed: 1,
};

/** A stored body at some schema version, with what else the row knows. */
export interface StoredBody {
  readonly eventId: string;
  readonly type: ConversationEventType;
  readonly schemaVersion: number;
  readonly body: ConversationEventProto;
  readonly metadata: EventMetadata;
}

/** Lifts one event type from `fromVersion` to `fromVersion + 1`. Pure; never touches storage. */
export interface Upcaster {
  readonly type: ConversationEventType;
  readonly fromVersion: number;
  upcast(stored: StoredBody): ConversationEventProto;
}

/**
 * UserMessageAppended v1 → v2. v1 bodies had no idempotency key (it was kept in the event metadata
 * only) and early writers left the turn id empty; v2 readers rely on both being in the body: the
 * decider's idempotency map is built from it, and Kafka consumers see the key.
 */
export const userMessageAppendedV1ToV2: Upcaster = {
  type: 'UserMessageAppended',
  fromVersion: 1,
  upcast({ body, metadata, eventId }) {
    if (body.event?.$case !== 'userMessageAppended') return body;
    const value = body.event.value;
    return {
      ...body,
      event: {
        $case: 'userMessageAppended',
        value: {
          ...value,
          turnId: value.turnId === '' ? eventId : value.turnId,
          idempotencyKey:
            value.idempotencyKey === '' ? metadata.idempotencyKey : value.idempotencyKey,
        },
      },
    };
  },
};

export const UPCASTERS: readonly Upcaster[] = [userMessageAppendedV1ToV2];

/**
 * Applies upcasters until the body is at the current version. A row newer than this code knows is
 * an error: reading it as if it were current could silently drop what the newer writer recorded.
 */
export function upcast(
  stored: StoredBody,
  upcasters: readonly Upcaster[] = UPCASTERS,
): ConversationEventProto {
  const target = CURRENT_SCHEMA_VERSION[stored.type];
  if (stored.schemaVersion > target) {
    throw new Error(
      `event ${stored.eventId} is ${stored.type} v${stored.schemaVersion}, newer than this service reads (v${target})`,
    );
  }
  let current = stored;
  while (current.schemaVersion < target) {
    const step = upcasters.find(
      (u) => u.type === current.type && u.fromVersion === current.schemaVersion,
    );
    if (!step)
      throw new Error(
        `no upcaster for ${current.type} v${current.schemaVersion} (event ${stored.eventId})`,
      );
    current = { ...current, body: step.upcast(current), schemaVersion: current.schemaVersion + 1 };
  }
  return current.body;
}
