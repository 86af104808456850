export {
  toGrpcStatus,
  errorCodeForStatus,
  ERROR_CODE_KEY,
  RETRY_AFTER_MS_KEY,
  ERROR_DETAILS_KEY,
} from './errors/grpc-status.js';
export {
  fromGrpcError,
  type GrpcStatusError,
  type FromGrpcErrorOptions,
} from './errors/from-grpc-error.js';
export {
  createGrpcServer,
  type GrpcServer,
  type GrpcServerOptions,
  type GrpcServiceRegistration,
  type ServingStatus,
} from './server/create-grpc-server.js';
export { type GrpcErrorLog } from './server/error-mapping.js';
export {
  createGrpcClient,
  type GrpcClient,
  type GrpcClientOptions,
} from './client/create-grpc-client.js';
export { type DeadlineCallOptions } from './client/deadline.js';
export { ChannelPool, defaultChannelPool, type ChannelLease } from './client/channel-pool.js';
export { waitForReady } from './client/wait-for-ready.js';
export { grpcTarget } from './client/target.js';
// Re-exported so services implement and call contracts without importing nice-grpc directly.
export {
  ServerError,
  ClientError,
  Status,
  Metadata,
  type CallContext,
  type ServiceImplementation,
} from 'nice-grpc';
