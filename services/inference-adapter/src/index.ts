// @spillway/inference-adapter: what other packages (bench, end-to-end tests) may use.
export { InferenceAdapterModule } from './inference-adapter.module.js';
export { ShardLifecycle } from './adapters/nest/shard.lifecycle.js';
export {
  inferenceAdapterConfigSchema,
  loadInferenceAdapterConfig,
  type InferenceAdapterConfig,
} from './config.js';
export { ENGINE_KINDS, type EngineKind } from './application/engine.port.js';
export { PREFIX_BLOCK_TOKENS } from './adapters/tokenizer/sim-prompt.tokenizer.js';
