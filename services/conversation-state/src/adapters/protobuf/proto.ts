import { events } from '@spillway/contracts';

/** The protobuf ConversationEvent (proto/spillway/events/v1): its type and its codec. */
export type ConversationEventProto = events.ConversationEvent;
export const ConversationEventProto: typeof events.ConversationEvent = events.ConversationEvent;
