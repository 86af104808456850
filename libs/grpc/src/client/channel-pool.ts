import { type Channel, type ChannelOptions, createChannel } from 'nice-grpc';
import { grpcTarget } from './target.js';

export interface ChannelLease {
  readonly channel: Channel;
  release(): void;
}

interface PooledChannel {
  readonly channel: Channel;
  users: number;
}

/**
 * One channel (one HTTP/2 connection set) per address and options, shared by every client of that
 * address: a router holding clients for several contracts of one shard opens one connection, not
 * one per contract. The last release closes it.
 */
export class ChannelPool {
  private readonly channels = new Map<string, PooledChannel>();

  /** A shared channel and the function that gives it back; release is idempotent. */
  acquire(address: string, options: ChannelOptions = {}): ChannelLease {
    const key = `${address}|${JSON.stringify(options)}`;
    let pooled = this.channels.get(key);
    if (!pooled) {
      pooled = { channel: createChannel(grpcTarget(address), undefined, options), users: 0 };
      this.channels.set(key, pooled);
    }
    pooled.users += 1;
    const entry = pooled;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users === 0 && this.channels.get(key) === entry) {
        this.channels.delete(key);
        entry.channel.close();
      }
    };
    return { channel: entry.channel, release };
  }

  /** Open channels, for tests and shutdown checks. */
  get size(): number {
    return this.channels.size;
  }

  closeAll(): void {
    for (const { channel } of this.channels.values()) channel.close();
    this.channels.clear();
  }
}

export const defaultChannelPool = new ChannelPool();
