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
  /** e.g. http://127.0.0.1:8000 */
  readonly url: string;
  readonly port: number;
  /** Stops new requests, lets open streams finish (up to `graceMs` wall ms), then closes. */
  shutdown(graceMs?: number): Promise<void>;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
}

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
  await app.listen(listen.port, listen.host);
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const readiness = app.get(Readiness);
  const generations = app.get(GenerationService);
  let closing: Promise<void> | undefined;
  return {
    app,
    port,
    url: `http://${listen.host}:${port}`,
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
