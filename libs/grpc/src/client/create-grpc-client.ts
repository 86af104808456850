import { type ErrorCode } from '@spillway/errors';
import {
  type ChannelOptions,
  type Client,
  createClientFactory,
  type DefaultCallOptions,
  type NormalizedServiceDefinition,
  type TsProtoServiceDefinition,
} from 'nice-grpc';
import { type FromGrpcErrorOptions } from '../errors/from-grpc-error.js';
import { type ChannelPool, defaultChannelPool } from './channel-pool.js';
import { clientCallMiddleware } from './call.middleware.js';
import { type DeadlineCallOptions } from './deadline.js';

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
  let translateErrors: FromGrpcErrorOptions | undefined;
  if (options.translateErrors ?? true) {
    translateErrors = options.peerUnavailableCode
      ? { peerUnavailableCode: options.peerUnavailableCode }
      : {};
  }
  // One middleware for deadline, tracing and translation: see clientCallMiddleware.
  const factory = createClientFactory().use(
    clientCallMiddleware({ defaultDeadlineMs: options.defaultDeadlineMs, translateErrors }),
  );
  const lease = (options.channelPool ?? defaultChannelPool).acquire(address, {
    // channelz is never served here, yet with it on grpc-js counts and timestamps every call.
    'grpc.enable_channelz': 0,
    ...options.channelOptions,
  });
  const client = factory.create(definition, lease.channel, options.defaultCallOptions);
  return Object.assign(client, { close: () => lease.release() });
}
