import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export type TraceExporterKind = 'none' | 'memory' | 'otlp';

export interface TelemetryOptions {
  readonly serviceName: string;
  readonly traceExporter: TraceExporterKind;
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  readonly otlpEndpoint?: string;
  /** Port for the Prometheus /metrics endpoint; undefined keeps metrics in-process only. */
  readonly metricsPort?: number;
}

export interface Telemetry {
  readonly options: TelemetryOptions;
  /** Present when traceExporter is 'memory': the spans this process has ended. */
  readonly memoryExporter: InMemorySpanExporter | undefined;
  readonly prometheus: PrometheusExporter | undefined;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let active: Telemetry | undefined;

/**
 * Installs the global tracer and meter providers, the async-local context manager and W3C
 * propagation. Idempotent per process: a second call returns the first installation, because
 * grpc-js, kafkajs and Nest must all see one provider.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (active) return active;

  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName });
  const memoryExporter =
    options.traceExporter === 'memory' ? new InMemorySpanExporter() : undefined;
  const spanProcessors: SpanProcessor[] = [];
  if (memoryExporter) spanProcessors.push(new SimpleSpanProcessor({ exporter: memoryExporter }));
  if (options.traceExporter === 'otlp') {
    spanProcessors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(options.otlpEndpoint ? { url: options.otlpEndpoint } : {}),
        scheduledDelayMillis: 200,
      }),
    );
  }
  const tracerProvider = new TracerProvider({ resource, spanProcessors });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
  trace.setGlobalTracerProvider(tracerProvider);

  const prometheus =
    options.metricsPort === undefined
      ? undefined
      : new PrometheusExporter({ port: options.metricsPort, host: '127.0.0.1' });
  const meterProvider = new MeterProvider({ resource, readers: prometheus ? [prometheus] : [] });
  metrics.setGlobalMeterProvider(meterProvider);

  active = {
    options,
    memoryExporter,
    prometheus,
    flush: () => tracerProvider.forceFlush(),
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      active = undefined;
    },
  };
  return active;
}

export function activeTelemetry(): Telemetry | undefined {
  return active;
}

/** Reads the standard variables; used by the `--import` entry point. */
export function telemetryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TelemetryOptions {
  const serviceName = env.OTEL_SERVICE_NAME ?? env.SPILLWAY_SERVICE ?? 'spillway';
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? tracesUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const requested = env.SPILLWAY_TRACE_EXPORTER;
  if (requested !== undefined && !['none', 'memory', 'otlp'].includes(requested)) {
    throw new Error(
      `SPILLWAY_TRACE_EXPORTER has value ${JSON.stringify(requested)}: expected none, memory or otlp`,
    );
  }
  const traceExporter =
    (requested as TraceExporterKind | undefined) ?? (endpoint ? 'otlp' : 'none');
  const metricsPort = env.METRICS_PORT === undefined ? undefined : Number(env.METRICS_PORT);
  if (
    metricsPort !== undefined &&
    !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort < 65536)
  ) {
    throw new Error(
      `METRICS_PORT has value ${JSON.stringify(env.METRICS_PORT)}: expected a port number`,
    );
  }
  return {
    serviceName,
    traceExporter,
    ...(endpoint ? { otlpEndpoint: endpoint } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
  };
}

function tracesUrl(base: string | undefined): string | undefined {
  if (!base) return undefined;
  return `${base.replace(/\/$/, '')}/v1/traces`;
}
