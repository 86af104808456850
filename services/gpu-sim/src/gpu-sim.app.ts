import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { GenerationService } from './application/generation.service.js';
import { Readiness } from './application/readiness.js';
import { BODY_LIMIT_BYTES, registerJsonBodyParser } from './adapters/http/json-body.js';
import { OpenAiExceptionFilter } from './adapters/http/openai-exception.filter.js';
import { GpuSimModule, type GpuSimPorts, type GpuSimSettings } from './gpu-sim.module.js';

export interface GpuSimServer {
  readonly app: NestFastifyApplication;
  /** e.g. http://127.0.0.1:8000, or unix:/tmp/gpu-sim.sock on a Unix domain socket */
  readonly url: string;
  /** The TCP port; 0 on a Unix domain socket. */
  readonly port: number;
  /** Stops new requests, lets open streams finish (up to `graceMs` wall ms), then closes. */
  shutdown(graceMs?: number): Promise<void>;
}

/** A TCP address, or a Unix domain socket (an absolute path), as vLLM's `--uds`. */
export type ListenOptions =
  { readonly host: string; readonly port: number } | { readonly socketPath: string };

/** Builds the Nest app on Fastify and listens; used by main.ts and by integration tests. */
export async function startGpuSim(
  settings: GpuSimSettings,
  listen: ListenOptions,
  ports: GpuSimPorts = {},
): Promise<GpuSimServer> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, logger: false });
  const app = await NestFactory.create<NestFastifyApplication>(
    GpuSimModule.forRoot(settings, ports),
    adapter,
    {
      logger: ['error', 'warn'],
      // Our own JSON parser (json-body.ts) turns malformed bodies into OpenAI-shaped 400s.
      bodyParser: false,
    },
  );
  const fastify: FastifyInstance = app.getHttpAdapter().getInstance();
  registerJsonBodyParser(fastify);
  app.useGlobalFilters(new OpenAiExceptionFilter());
  let url: string;
  let port = 0;
  if ('socketPath' in listen) {
    await claimSocketPath(listen.socketPath);
    await app.listen({ path: listen.socketPath }).catch((error: unknown) => {
      throw new Error(
        `cannot listen on the Unix domain socket ${listen.socketPath}: ${(error as Error).message}`,
        { cause: error },
      );
    });
    url = `unix:${listen.socketPath}`;
  } else {
    await app.listen(listen.port, listen.host);
    const address = fastify.server.address();
    port = typeof address === 'object' && address ? address.port : listen.port;
    url = `http://${listen.host}:${port}`;
  }
  const readiness = app.get(Readiness);
  const generations = app.get(GenerationService);
  let closing: Promise<void> | undefined;
  return {
    app,
    port,
    url,
    shutdown: (graceMs = 30_000) => {
      closing ??= (async () => {
        readiness.drain();
        await generations.whenIdle(graceMs);
        await app.close();
      })();
      return closing;
    },
  };
}

/**
 * Makes `path` free to listen on. A socket left behind by a process that was killed (no one
 * accepts on it) is removed, as Python's asyncio does for uvicorn and so for vLLM's `--uds`; a
 * socket someone still listens on, or a path that is not a socket, is refused.
 */
async function claimSocketPath(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stats.isSocket())
    throw new Error(`${path} exists and is not a socket: remove it or listen on another path`);
  // Connection refused is the one answer that means nobody listens there any more.
  const refusal = await new Promise<string | undefined>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(undefined);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  if (refusal === undefined) throw new Error(`another process is listening on ${path}`);
  if (refusal !== 'ECONNREFUSED')
    throw new Error(`cannot tell whether ${path} is in use (${refusal})`);
  await unlink(path);
}
