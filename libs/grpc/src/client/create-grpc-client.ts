import { type ErrorCode } from '@spillway/errors';
import {
  type ChannelOptions,
  type Client,
  createClientFactory,
  type DefaultCallOptions,
  type NormalizedServiceDefinition,
  type TsProtoServiceDefinition,
} from 'nice-grpc';
import { type ChannelPool, defaultChannelPool } from './channel-pool.js';
import { type DeadlineCallOptions, deadlineMiddleware } from './deadline.middleware.js';
import { errorTranslationMiddleware } from './error-translation.middleware.js';
import { clientTracingMiddleware } from './tracing.middleware.js';

export interface GrpcClientOptions<S extends TsProtoServiceDefinition> {
  /** Applied to every call that does not pass its own `deadline`. */
  readonly defaultDeadlineMs: number;
  readonly channelOptions?: ChannelOptions;
  /** Rethrow failures as DomainError (default true); false leaves nice-grpc's ClientError. */
  readonly translateErrors?: boolean;
  /** Domain code for "the peer is gone" when it sent none, e.g. SHARD.UNAVAILABLE for a shard. */
  readonly peerUnavailableCode?: ErrorCode;
  /** Per-method default call options (metadata, ...), as nice-grpc accepts them. */
  readonly defaultCallOptions?: DefaultCallOptions<
    NormalizedServiceDefinition<S>,
    DeadlineCallOptions
  >;
  readonly channelPool?: ChannelPool;
}

export type GrpcClient<S extends TsProtoServiceDefinition> = Client<S, DeadlineCallOptions> & {
  /** Releases this client's share of the pooled channel; the last client closes it. */
  close(): void;
};

/**
 * A typed nice-grpc client with a default deadline, a CLIENT span per call and (by default)
 * DomainError translation, on a channel shared with every other client of `address`.
 */
export function createGrpcClient<S extends TsProtoServiceDefinition>(
  definition: S,
  address: string,
  options: GrpcClientOptions<S>,
): GrpcClient<S> {
  if (Object.values(definition.methods).some((method) => method.name === 'Close')) {
    throw new Error(
      `${definition.fullName} has an rpc named Close, which would collide with GrpcClient.close()`,
    );
  }
  // Attached first = runs last (nearest the wire): errors → tracing → deadline → transport.
  // Tracing sits inside translation so spans record the raw gRPC status.
  let factory = createClientFactory()
    .use(deadlineMiddleware(options.defaultDeadlineMs))
    .use(clientTracingMiddleware);
  if (options.translateErrors ?? true) {
    factory = factory.use(
      errorTranslationMiddleware(
        options.peerUnavailableCode ? { peerUnavailableCode: options.peerUnavailableCode } : {},
      ),
    );
  }
  const lease = (options.channelPool ?? defaultChannelPool).acquire(
    address,
    options.channelOptions,
  );
  const client = factory.create(definition, lease.channel, options.defaultCallOptions);
  return Object.assign(client, { close: () => lease.release() });
}
