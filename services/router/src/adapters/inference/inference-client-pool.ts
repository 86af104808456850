import { inference } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import type {
  GenerateEvent,
  GenerateRequest,
  InferencePort,
  ShardAddress,
} from '../../application/index.js';
import {
  fromProtoFinishReason,
  fromProtoUsage,
  toProtoMessages,
  toProtoPriority,
  toProtoSampling,
} from '../protobuf/common.mapper.js';

type InferenceClient = GrpcClient<typeof inference.InferenceDefinition>;

export interface InferenceClientPoolOptions {
  /** Bound on one Generate call, first byte to last token. */
  readonly generateDeadlineMs: number;
}

/**
 * One `Inference` client per shard endpoint, created on first use. Failures arrive as DomainErrors;
 * a connection that cannot be made or drops is SHARD.UNAVAILABLE, which the turn runner answers by
 * moving the turn to another shard.
 */
export class InferenceClientPool implements InferencePort {
  private readonly clients = new Map<string, InferenceClient>();
  private readonly endpointOf = new Map<string, string>();

  constructor(private readonly options: InferenceClientPoolOptions) {}

  async *generate(
    shard: ShardAddress,
    request: GenerateRequest,
    signal: AbortSignal,
  ): AsyncGenerator<GenerateEvent, void, undefined> {
    const previous = this.endpointOf.get(shard.shardId);
    if (previous !== shard.endpoint) {
      // The shard came back on another address: its old channel is of no more use.
      if (previous !== undefined) this.forget(previous);
      this.endpointOf.set(shard.shardId, shard.endpoint);
    }
    const stream = this.clientFor(shard.endpoint).generate(
      {
        requestId: request.requestId,
        conversationId: request.conversationId,
        tenantId: request.tenantId,
        model: request.model,
        messages: toProtoMessages(request.messages),
        sampling: toProtoSampling(request.sampling),
        priority: toProtoPriority(request.priority),
        resumeFromText: request.resumeFromText,
      },
      { signal, deadline: this.options.generateDeadlineMs },
    );
    for await (const response of stream) {
      const event = response.event;
      if (event === undefined) continue;
      switch (event.$case) {
        case 'started':
          yield {
            kind: 'started',
            shardId: event.value.shardId,
            promptTokens: event.value.promptTokens,
          };
          break;
        case 'delta':
          yield { kind: 'delta', text: event.value.text };
          break;
        case 'completed':
          yield {
            kind: 'completed',
            finishReason: fromProtoFinishReason(event.value.finishReason),
            usage: fromProtoUsage(event.value.usage),
          };
          break;
        default: {
          const unknown: never = event;
          throw new Error(`unknown Generate event ${JSON.stringify(unknown)}`);
        }
      }
    }
  }

  /** A shard that left for good: its channel is closed. */
  forgetShard(shardId: string): void {
    const endpoint = this.endpointOf.get(shardId);
    this.endpointOf.delete(shardId);
    if (endpoint !== undefined) this.forget(endpoint);
  }

  private forget(endpoint: string): void {
    this.clients.get(endpoint)?.close();
    this.clients.delete(endpoint);
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    this.endpointOf.clear();
  }

  private clientFor(endpoint: string): InferenceClient {
    let client = this.clients.get(endpoint);
    if (client === undefined) {
      client = createGrpcClient(inference.InferenceDefinition, endpoint, {
        defaultDeadlineMs: this.options.generateDeadlineMs,
        peerUnavailableCode: 'SHARD.UNAVAILABLE',
        channelOptions: {
          'grpc.keepalive_time_ms': 10_000,
          'grpc.keepalive_timeout_ms': 5_000,
          'grpc.keepalive_permit_without_calls': 1,
          // A restarted adapter on the same address is found again quickly.
          'grpc.initial_reconnect_backoff_ms': 100,
          'grpc.max_reconnect_backoff_ms': 1_000,
        },
      });
      this.clients.set(endpoint, client);
    }
    return client;
  }
}
