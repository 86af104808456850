import type { ClockPort } from '../clock.port.js';
import type { LogPort } from '../log.port.js';
import type { ShardRuntime } from '../shard-runtime.js';
import {
  ShardNotRegistered,
  type RegistryShardState,
  type ShardDescriptor,
  type ShardRegistryPort,
} from '../shard-registry.port.js';

export interface HeartbeatSettings {
  /** Used until the registry asks for another interval. */
  readonly intervalMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

/**
 * Keeps the shard known to the registry: register, then heartbeat with the current load. The
 * registry is never required for serving: while it is missing or unreachable the loop logs once,
 * retries with capped exponential backoff (with jitter, so a fleet restarting together does not
 * stampede it) and the shard keeps serving. A registry that forgot the shard, or declared it failed,
 * gets it registered again; one that says the shard is draining (an operator drained it there)
 * drains it here too, and one that removed it ends the heartbeats and drains the shard.
 */
export class RegisterAndHeartbeat {
  private registered = false;

  constructor(
    private readonly runtime: ShardRuntime,
    private readonly registry: ShardRegistryPort,
    private readonly descriptor: ShardDescriptor,
    private readonly log: LogPort,
    private readonly clock: ClockPort,
    private readonly settings: HeartbeatSettings,
    private readonly random: () => number = Math.random,
  ) {}

  get isRegistered(): boolean {
    return this.registered;
  }

  async run(signal: AbortSignal): Promise<void> {
    let intervalMs = this.settings.intervalMs;
    let backoffMs = this.settings.initialBackoffMs;
    let failures = 0;
    // A shard that starts draining (or whose engine comes or goes) tells the registry at once,
    // not at the next interval: routers should stop sending it turns now.
    let wake = new AbortController();
    const stopListening = this.runtime.onServingChange(() => wake.abort());
    const sleep = async (ms: number) => {
      await this.clock.sleep(ms, AbortSignal.any([signal, wake.signal]));
      if (wake.signal.aborted) wake = new AbortController();
    };
    try {
      while (!signal.aborted) {
        try {
          if (!this.registered) {
            const answer = await this.registry.register(this.descriptor);
            this.registered = true;
            if (answer.heartbeatIntervalMs > 0) intervalMs = answer.heartbeatIntervalMs;
            this.log.info('registered with the shard registry', {
              shardId: this.descriptor.shardId,
              heartbeatIntervalMs: intervalMs,
            });
          }
          const { state } = await this.registry.heartbeat({
            shardId: this.descriptor.shardId,
            load: this.runtime.currentLoad(),
            ready: this.runtime.engineHealth.ready,
            draining: this.runtime.draining,
          });
          if (failures > 0) {
            this.log.info('shard registry reachable again', {
              shardId: this.descriptor.shardId,
              failures,
            });
          }
          failures = 0;
          backoffMs = this.settings.initialBackoffMs;
          if (this.follow(state)) return;
          await sleep(intervalMs);
        } catch (error) {
          if (signal.aborted) break;
          if (error instanceof ShardNotRegistered) {
            this.registered = false;
            this.log.warn('the shard registry does not know this shard; registering again', {
              shardId: this.descriptor.shardId,
            });
            await sleep(this.settings.initialBackoffMs);
            continue;
          }
          failures++;
          // Log the first failure and then every tenth, so a long outage does not flood the log.
          if (failures === 1 || failures % 10 === 0) {
            this.log.warn('shard registry unreachable; serving without it and retrying', {
              shardId: this.descriptor.shardId,
              failures,
              retryInMs: backoffMs,
              error: error instanceof Error ? error.message : String(error),
            });
          }
          await this.clock.sleep(backoffMs * (0.5 + this.random() / 2), signal);
          backoffMs = Math.min(this.settings.maxBackoffMs, backoffMs * 2);
        }
      }
    } finally {
      stopListening();
    }
  }

  /** Acts on the state the registry holds for the shard; true when heartbeats should end. */
  private follow(state: RegistryShardState): boolean {
    const shardId = this.descriptor.shardId;
    switch (state) {
      case 'draining':
        if (!this.runtime.draining) {
          this.log.info('the registry drained this shard', { shardId });
          this.runtime.drain();
        }
        return false;
      case 'failed':
        // Declared failed while it could not hear us: registering again brings the shard back.
        this.log.warn('the registry marked this shard failed; registering again', { shardId });
        this.registered = false;
        return false;
      case 'removed':
        this.log.warn('the registry removed this shard; draining and no longer heartbeating', {
          shardId,
        });
        this.runtime.drain();
        return true;
      case 'starting':
      case 'ready':
      case 'unknown':
        return false;
      default: {
        const unknownState: never = state;
        return unknownState;
      }
    }
  }
}
