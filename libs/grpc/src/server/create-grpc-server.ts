import { descriptorSetPath as contractsDescriptorSetPath } from '@spillway/contracts';
import {
  createServer,
  type Server,
  type ServiceImplementation,
  type TsProtoServiceDefinition,
} from 'nice-grpc';
import { HealthServiceImpl, HealthState, HealthDefinition } from 'nice-grpc-server-health';
import { serverCallMiddleware } from './call.middleware.js';
import { type GrpcErrorLog, stderrErrorLog } from './error-mapping.js';
import { addReflection, HEALTH_SERVICE_NAME } from './reflection.js';

export interface GrpcServiceRegistration<S extends TsProtoServiceDefinition> {
  readonly definition: S;
  readonly implementation: ServiceImplementation<S>;
}

export interface GrpcServerOptions<Defs extends readonly TsProtoServiceDefinition[]> {
  /** The owning Spillway service, for logs. */
  readonly serviceName: string;
  /** One entry per contract; the compiler checks each implementation against its definition. */
  readonly services: { readonly [K in keyof Defs]: GrpcServiceRegistration<Defs[K]> };
  /** 0 binds an ephemeral port; read the real one from `port` after start(). */
  readonly port: number;
  readonly host?: string;
  /** Reflection source; defaults to the FileDescriptorSet of @spillway/contracts. */
  readonly descriptorSetPath?: string;
  readonly errorLog?: GrpcErrorLog;
}

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export interface GrpcServer {
  readonly server: Server;
  /** The bound port. Throws before start(), when it is not known yet. */
  readonly port: number;
  /** Full names of the registered contracts, e.g. spillway.inference.v1.Inference. */
  readonly serviceNames: readonly string[];
  /** Flips what grpc.health.v1.Health reports; '' is the whole server. */
  setServingStatus(status: ServingStatus, service?: string): void;
  start(): Promise<number>;
  /**
   * Reports NOT_SERVING everywhere (so balancers and watchers stop sending), lets in-flight calls
   * finish for up to `graceMs`, then cancels what is left.
   */
  shutdown(graceMs?: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 5_000;

/**
 * A nice-grpc server with Spillway's standard equipment: tracing and error mapping on every
 * contract, plus health and reflection so operators can probe and list it with stock tools.
 */
export function createGrpcServer<const Defs extends readonly TsProtoServiceDefinition[]>(
  options: GrpcServerOptions<Defs>,
): GrpcServer {
  const host = options.host ?? '127.0.0.1';
  // channelz (grpc-js' introspection service) is never served here, yet with it on grpc-js counts
  // and timestamps every call and message.
  const server = createServer({ 'grpc.enable_channelz': 0 });
  const registrations: readonly GrpcServiceRegistration<TsProtoServiceDefinition>[] =
    options.services;
  const serviceNames = registrations.map((registration) => registration.definition.fullName);

  const withMiddleware = server.with(serverCallMiddleware(options.errorLog ?? stderrErrorLog));
  for (const { definition, implementation } of registrations)
    withMiddleware.add(definition, implementation);

  // Probes and reflection stay untraced: a kubelet probing every second would drown real traces.
  const health = HealthState();
  for (const name of ['', HEALTH_SERVICE_NAME, ...serviceNames]) health.setStatus('healthy', name);
  server.add(HealthDefinition, HealthServiceImpl(health));
  addReflection(server, options.descriptorSetPath ?? contractsDescriptorSetPath, serviceNames);

  let boundPort: number | undefined;
  let shuttingDown: Promise<void> | undefined;

  return {
    server,
    serviceNames,
    get port(): number {
      if (boundPort === undefined) {
        throw new Error(
          `gRPC server of ${options.serviceName} is not listening yet: await start() first`,
        );
      }
      return boundPort;
    },
    setServingStatus(status, service = '') {
      health.setStatus(status === 'SERVING' ? 'healthy' : 'unhealthy', service);
    },
    async start() {
      const address = host.includes(':') ? `[${host}]:${options.port}` : `${host}:${options.port}`;
      boundPort = await server.listen(address);
      return boundPort;
    },
    shutdown(graceMs = DEFAULT_GRACE_MS) {
      shuttingDown ??= drainAndStop(server, graceMs, () => {
        for (const name of ['', HEALTH_SERVICE_NAME, ...serviceNames])
          health.setStatus('unhealthy', name);
      });
      return shuttingDown;
    },
  };
}

async function drainAndStop(
  server: Server,
  graceMs: number,
  markNotServing: () => void,
): Promise<void> {
  markNotServing();
  let timer: NodeJS.Timeout | undefined;
  const graceExpired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), graceMs);
  });
  const graceful = server.shutdown().then(() => 'drained' as const);
  try {
    if ((await Promise.race([graceful, graceExpired])) === 'expired') {
      // Cancels what is still running; the graceful shutdown then settles on its own, and any
      // error it reports is moot because the server is gone either way.
      server.forceShutdown();
      graceful.catch(() => undefined);
    }
  } finally {
    clearTimeout(timer);
  }
}
