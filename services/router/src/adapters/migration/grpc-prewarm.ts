import { inference } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import type { ShardAddress } from '../../application/index.js';
import type { PrewarmPort, PrewarmRequest } from '../../application/migrate-conversations/index.js';
import { toProtoMessages } from '../protobuf/common.mapper.js';

type InferenceClient = GrpcClient<typeof inference.InferenceDefinition>;

/** PrewarmPort over the target shard's Inference.Prewarm, one channel per shard endpoint. */
export class GrpcPrewarm implements PrewarmPort {
  private readonly clients = new Map<string, InferenceClient>();

  constructor(private readonly deadlineMs: number) {}

  async prewarm(shard: ShardAddress, request: PrewarmRequest): Promise<void> {
    await this.clientFor(shard.endpoint).prewarm({
      conversationId: request.conversationId,
      model: request.model,
      messages: toProtoMessages(request.messages),
    });
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private clientFor(endpoint: string): InferenceClient {
    let client = this.clients.get(endpoint);
    if (client === undefined) {
      client = createGrpcClient(inference.InferenceDefinition, endpoint, {
        defaultDeadlineMs: this.deadlineMs,
      });
      this.clients.set(endpoint, client);
    }
    return client;
  }
}
