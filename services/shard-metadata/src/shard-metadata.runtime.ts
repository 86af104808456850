import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { GrpcServer } from '@spillway/grpc';
import type { DataSource } from 'typeorm';
import type { AssignmentMap } from './application/assignments/assignment-map.js';
import type { SharedRoutes } from './application/model-routes/shared-routes.js';
import type { ChangeFeed } from './application/ports/change-feed.port.js';
import type { ShardRegistry } from './application/registry/shard-registry.js';
import type { LifecycleEventRelay } from './adapters/messaging/lifecycle-event.relay.js';
import type { FailureDetectionTimer } from './adapters/scheduling/failure-detection.timer.js';
import type { LeaderTerm } from './adapters/persistence/leader-term.js';

export interface ShardMetadataParts {
  readonly dataSource: DataSource;
  /** This leadership's fencing term, claimed before anything was loaded. */
  readonly term: LeaderTerm;
  readonly registry: ShardRegistry;
  readonly assignments: AssignmentMap;
  readonly routes: SharedRoutes;
  readonly relay: LifecycleEventRelay;
  readonly failureDetection: FailureDetectionTimer;
  readonly grpcServer: GrpcServer;
  /** Closed at shutdown so watch streams end at once instead of holding the grace period. */
  readonly feeds: readonly ChangeFeed<unknown>[];
  readonly shutdownGraceMs: number;
}

/**
 * Start-up and shutdown order in one place: state is loaded before the first call is served, and
 * at shutdown callers are let go before the state they talk to.
 */
export class ShardMetadataRuntime {
  private readonly logger = new Logger('shard-metadata');
  private boundPort: number | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly parts: ShardMetadataParts) {}

  get port(): number {
    if (this.boundPort === undefined) throw new Error('shard-metadata is not listening yet');
    return this.boundPort;
  }

  async start(): Promise<void> {
    const { term, registry, assignments, routes, relay, failureDetection, grpcServer } = this.parts;
    const shards = await registry.load();
    const pinned = await assignments.load();
    const { generation } = await routes.load();
    this.logger.log(
      `leader term ${term.term}: loaded ${shards} shards, ${pinned} assignments and model routes ` +
        `generation ${generation}`,
    );
    relay.start();
    failureDetection.start();
    this.boundPort = await grpcServer.start();
  }

  /**
   * Stops serving and lets go of the state. `graceMs` 0 is a step-down: the process no longer
   * leads, so nothing it serves or decides may go on (in-flight calls are cancelled). Failure
   * detection stops first either way: a registry on its way out must not fail shards.
   */
  stop(graceMs = this.parts.shutdownGraceMs): Promise<void> {
    return (this.stopping ??= this.shutdown(graceMs));
  }

  private async shutdown(graceMs: number): Promise<void> {
    const { registry, relay, failureDetection, grpcServer, dataSource, feeds } = this.parts;
    const detectionStopped = failureDetection.stop();
    for (const feed of feeds) feed.close();
    await grpcServer.shutdown(graceMs);
    await detectionStopped;
    await registry.idle();
    await relay.stop();
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

/** Hands Nest's lifecycle to the runtime. */
@Injectable()
export class ShardMetadataLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(ShardMetadataRuntime) private readonly runtime: ShardMetadataRuntime) {}

  onApplicationBootstrap(): Promise<void> {
    return this.runtime.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.runtime.stop();
  }
}
