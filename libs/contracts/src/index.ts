// Namespaced re-exports: several packages share message names (ListConversationsRequest, ...).
export * as common from './generated/spillway/common/v1/common.js';
export * as chat from './generated/spillway/chat/v1/chat.js';
export * as shard from './generated/spillway/shard/v1/shard_registry.js';
export * as conversation from './generated/spillway/conversation/v1/conversation_store.js';
export * as inference from './generated/spillway/inference/v1/inference.js';
export * as autoscaler from './generated/spillway/autoscaler/v1/autoscaler.js';
export * as routerAdmin from './generated/spillway/router/v1/router_admin.js';
export * as externalscaler from './generated/externalscaler/externalscaler.js';
export * as events from './events.js';
export { descriptorSetPath } from './descriptor.js';
// Hand-written: enum and sampling translations shared by every service (see common-mapping.ts).
export * as mapping from './common-mapping.js';
