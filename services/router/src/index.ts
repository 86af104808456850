// @spillway/router: the service for in-process use (tests, benchmarks); its pure core is exported
// as @spillway/router/domain and @spillway/router/application.
export { startRouter, type RunningRouter } from './bootstrap.js';
export {
  routerConfigSchema,
  loadRouterConfig,
  type RouterConfig,
  type RouterConfigInput,
} from './config.js';
export { parseModelRoutes, type ReloadOutcome } from './adapters/config/model-routes.source.js';
