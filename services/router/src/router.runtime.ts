import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { GrpcServer } from '@spillway/grpc';
import type { LogPort, TurnAdmission } from './application/index.js';
import type { ReloadOutcome } from './adapters/config/model-routes.source.js';
import type { WatchLoop } from './adapters/registry/watch-loop.js';

export interface RouterParts {
  readonly grpcServer: GrpcServer;
  readonly shardWatch: WatchLoop;
  readonly assignmentWatch: WatchLoop;
  /** Set when the model routes are the table every replica shares, kept by the registry. */
  readonly modelRoutesWatch?: WatchLoop | undefined;
  readonly admission: TurnAdmission;
  readonly reloadModelRoutes: () => ReloadOutcome;
  /** Things that start after the watches and stop after the server (Kafka, clients). */
  readonly startBackground: () => void;
  readonly stopBackground: () => Promise<void>;
  readonly log: LogPort;
  readonly registryWaitMs: number;
  readonly sweepIntervalMs: number;
  readonly shutdownGraceMs: number;
}

/**
 * Start-up and shutdown order in one place: the router learns the shards and assignments from the
 * registry before it serves its first turn, and at shutdown lets in-flight turns finish before it
 * lets go of the shards they stream from.
 */
export class RouterRuntime {
  private boundPort: number | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly parts: RouterParts) {}

  get port(): number {
    if (this.boundPort === undefined) throw new Error('the router is not listening yet');
    return this.boundPort;
  }

  reloadModelRoutes(): ReloadOutcome {
    return this.parts.reloadModelRoutes();
  }

  async start(): Promise<void> {
    const { shardWatch, assignmentWatch, modelRoutesWatch, admission, log } = this.parts;
    shardWatch.start();
    assignmentWatch.start();
    modelRoutesWatch?.start();
    const synced = await waitUntil(
      () =>
        shardWatch.isConnected &&
        assignmentWatch.isConnected &&
        (modelRoutesWatch?.isConnected ?? true),
      this.parts.registryWaitMs,
    );
    if (!synced) {
      log.warn('serving before the shard registry answered; turns fail until it does', {
        waitedMs: this.parts.registryWaitMs,
      });
    }
    this.sweeper = setInterval(() => admission.sweep(), this.parts.sweepIntervalMs);
    this.sweeper.unref();
    this.parts.startBackground();
    this.boundPort = await this.parts.grpcServer.start();
  }

  async stop(): Promise<void> {
    await this.parts.grpcServer.shutdown(this.parts.shutdownGraceMs);
    clearInterval(this.sweeper);
    await Promise.all([
      this.parts.shardWatch.stop(),
      this.parts.assignmentWatch.stop(),
      this.parts.modelRoutesWatch?.stop(),
    ]);
    await this.parts.stopBackground();
  }
}

/** Hands Nest's lifecycle to the runtime. */
@Injectable()
export class RouterLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(RouterRuntime) private readonly runtime: RouterRuntime) {}

  onApplicationBootstrap(): Promise<void> {
    return this.runtime.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.runtime.stop();
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
