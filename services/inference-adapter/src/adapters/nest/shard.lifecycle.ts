import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { inference } from '@spillway/contracts';
import { createGrpcServer, type GrpcServer } from '@spillway/grpc';
import { CLOCK_PORT, type ClockPort } from '../../application/clock.port.js';
import { LOG_PORT, type LogPort } from '../../application/log.port.js';
import { RegisterAndHeartbeat } from '../../application/register-and-heartbeat/register-and-heartbeat.use-case.js';
import type { ReportLoad } from '../../application/report-load/report-load.use-case.js';
import {
  SHARD_REGISTRY_PORT,
  type ShardRegistryPort,
} from '../../application/shard-registry.port.js';
import { SHARD_RUNTIME, type ShardRuntime } from '../../application/shard-runtime.js';
import { INFERENCE_ADAPTER_CONFIG, type InferenceAdapterConfig } from '../../config.js';
import { InferenceGrpcController } from '../grpc/inference.grpc.controller.js';
import { REPORT_LOAD, SHUTDOWN_HOOKS, type ShutdownHook } from './tokens.js';

/**
 * The shard's life: probe the engine once, serve gRPC, then watch the engine and keep the registry
 * informed until shutdown; on shutdown drain, let in-flight streams finish (bounded), stop.
 */
@Injectable()
export class ShardLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('inference-adapter');
  private server: GrpcServer | undefined;
  private readonly loops = new AbortController();
  private running: Promise<void>[] = [];

  constructor(
    @Inject(INFERENCE_ADAPTER_CONFIG) private readonly config: InferenceAdapterConfig,
    @Inject(SHARD_RUNTIME) private readonly runtime: ShardRuntime,
    @Inject(InferenceGrpcController) private readonly controller: InferenceGrpcController,
    @Inject(REPORT_LOAD) private readonly reportLoad: ReportLoad,
    @Inject(SHARD_REGISTRY_PORT) private readonly registry: ShardRegistryPort | null,
    @Inject(LOG_PORT) private readonly log: LogPort,
    @Inject(CLOCK_PORT) private readonly clock: ClockPort,
    @Inject(SHUTDOWN_HOOKS) private readonly shutdownHooks: readonly ShutdownHook[],
  ) {}

  /** The bound gRPC port (after bootstrap). */
  get grpcPort(): number {
    if (!this.server) throw new Error('the inference adapter has not started');
    return this.server.port;
  }

  get endpoint(): string {
    return this.config.ADVERTISED_ENDPOINT ?? `${this.config.GRPC_HOST}:${this.grpcPort}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    // One probe before serving, so the first turns meet a known engine state; an unreachable
    // engine is reported (health NOT_SERVING, GetLoad ready=false) but does not stop the shard.
    await this.reportLoad.tick(this.loops.signal);
    const server = createGrpcServer({
      serviceName: 'inference-adapter',
      services: [{ definition: inference.InferenceDefinition, implementation: this.controller }],
      port: this.config.GRPC_PORT,
      host: this.config.GRPC_HOST,
      errorLog: { error: (message, fields) => this.log.error(message, fields) },
    });
    this.server = server;
    const applyServing = (serving: boolean) => {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      server.setServingStatus(status);
      for (const name of server.serviceNames) server.setServingStatus(status, name);
    };
    applyServing(this.runtime.serving);
    this.runtime.onServingChange(applyServing);
    const port = await server.start();
    const health = this.runtime.engineHealth;
    // Start scripts and tests wait for this line.
    this.logger.log(
      `shard ${this.config.SHARD_ID} serving Inference on ${this.config.GRPC_HOST}:${port} ` +
        `(engine ${this.config.ENGINE_KIND} at ${this.config.ENGINE_URL}: ${health.ready ? 'ready' : `NOT READY, ${health.detail}`})`,
    );

    this.running.push(this.reportLoad.run(this.loops.signal));
    if (this.registry) {
      const heartbeat = new RegisterAndHeartbeat(
        this.runtime,
        this.registry,
        {
          shardId: this.config.SHARD_ID,
          pool: this.config.POOL,
          model: this.config.MODEL,
          zone: this.config.ZONE,
          endpoint: this.endpoint,
          maxInFlightStreams: this.config.MAX_IN_FLIGHT_STREAMS,
          kvCapacityTokens: this.config.KV_CAPACITY_TOKENS,
          hardwareProfile: this.config.HARDWARE_PROFILE,
          costPerHour: this.config.COST_PER_HOUR,
        },
        this.log,
        this.clock,
        {
          intervalMs: this.config.HEARTBEAT_INTERVAL_MS,
          initialBackoffMs: 250,
          maxBackoffMs: 10_000,
        },
      );
      this.running.push(heartbeat.run(this.loops.signal));
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    const inFlight = this.runtime.drain();
    if (inFlight > 0) this.log.info('shutting down: waiting for in-flight streams', { inFlight });
    const grace = this.config.SHUTDOWN_GRACE_MS;
    const graceOver = new AbortController();
    await Promise.race([this.runtime.whenIdle(), this.clock.sleep(grace, graceOver.signal)]);
    graceOver.abort();
    await this.server?.shutdown(1_000);
    this.loops.abort();
    await Promise.allSettled(this.running);
    this.running = [];
    await Promise.allSettled(this.shutdownHooks.map(async (hook) => hook()));
  }
}
