import type { LogPort } from '../log.port.js';
import type { ShardRuntime } from '../shard-runtime.js';

/**
 * Stops the shard taking new streams. In-flight streams run to their end; health turns
 * NOT_SERVING (through the runtime's serving listeners) so balancers and the registry stop
 * sending. There is no undrain: a drained shard is on its way out.
 */
export class DrainShard {
  constructor(
    private readonly runtime: ShardRuntime,
    private readonly log: LogPort,
  ) {}

  execute(reason: string): { readonly inFlightStreams: number } {
    const wasDraining = this.runtime.draining;
    const inFlightStreams = this.runtime.drain();
    if (!wasDraining) {
      this.log.info('shard draining', {
        shardId: this.runtime.shardId,
        reason: reason || 'unspecified',
        inFlightStreams,
      });
    }
    return { inFlightStreams };
  }
}
