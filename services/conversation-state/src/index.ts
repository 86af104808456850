// What other packages (tests, benches, the start script) may use from conversation-state.
export { startConversationState, type RunningConversationState } from './conversation-state.app.js';
export {
  conversationStateConfigSchema,
  loadConversationStateConfig,
  type ConversationStateConfig,
} from './config.js';
export {
  simulatorTokenEstimator,
  countTokens,
} from './adapters/tokens/simulator-token-estimator.js';
