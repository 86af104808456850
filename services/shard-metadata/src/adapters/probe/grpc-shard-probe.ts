import { inference } from '@spillway/contracts';
import { createGrpcClient } from '@spillway/grpc';
import type { ProbeAnswer, ShardProbe } from '../../application/ports/shard-probe.port.js';
import type { Shard } from '../../domain/shard.js';
import { toShardLoad } from '../grpc/shard-registry.mapper.js';

/**
 * Probes a shard through its inference adapter's `Inference.GetLoad`, at the endpoint it
 * registered. A channel per probe: probes are rare (a shard that missed its heartbeats) and a
 * cached channel to a dead endpoint would only hold a socket and a reconnect timer.
 */
export class GrpcShardProbe implements ShardProbe {
  constructor(private readonly timeoutMs: number) {}

  async probe(shard: Shard): Promise<ProbeAnswer> {
    const client = createGrpcClient(inference.InferenceDefinition, shard.endpoint, {
      defaultDeadlineMs: this.timeoutMs,
    });
    try {
      const answer = await client.getLoad({});
      if (answer.shardId !== shard.shardId) {
        return {
          kind: 'not-serving',
          reason: `${shard.endpoint} answers as shard ${JSON.stringify(answer.shardId)} now`,
        };
      }
      if (!answer.ready) return { kind: 'not-serving', reason: 'its engine is not ready' };
      return { kind: 'serving', load: toShardLoad(answer.load) };
    } catch (error) {
      return {
        kind: 'not-serving',
        reason: `no answer from ${shard.endpoint} within ${this.timeoutMs} ms (${error instanceof Error ? error.message : String(error)})`,
      };
    } finally {
      client.close();
    }
  }
}
