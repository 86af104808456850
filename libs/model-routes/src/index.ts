export {
  canarySplit,
  describeRouteProblem,
  underField,
  validateModelRoutes,
  type ModelRoute,
  type ModelRouteTable,
  type RouteProblem,
  type ShadowPool,
  type WeightedPool,
} from './model-route-table.js';
export { fromProtoRouteTable, toProtoRouteTable } from './wire.js';
