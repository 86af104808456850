export * from './generated/spillway/events/v1/envelope.js';
export * from './generated/spillway/events/v1/conversation_events.js';
export * from './generated/spillway/events/v1/shard_events.js';
export * from './generated/spillway/events/v1/scaling_events.js';
export * from './generated/spillway/events/v1/request_events.js';
