import { type Counter, type UpDownCounter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  type GatewayMetrics,
  type ShedReason,
} from '../../application/ports/gateway-metrics.port.js';
import { type CacheLookupResult } from '../../domain/response-cache.js';
import { type Priority } from '../../domain/tenant.js';

/**
 * The gateway's OpenTelemetry metrics, read out in Prometheus text format by GET /metrics on the
 * gateway's own port. A private MeterProvider keeps them independent of how (or whether) the
 * process-wide telemetry exports metrics.
 */
export class OtelGatewayMetrics implements GatewayMetrics {
  private readonly reader = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
  });
  private readonly provider = new MeterProvider({ readers: [this.reader] });
  private readonly serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
  private readonly cacheLookups: Counter;
  private readonly sheds: Counter;
  private readonly quotaRejections: Counter;
  private readonly replays: Counter;
  private readonly turns: Counter;
  private readonly inFlight: UpDownCounter;

  constructor() {
    const meter = this.provider.getMeter('spillway-gateway');
    this.cacheLookups = meter.createCounter('gateway_cache_lookups', {
      description: 'Response cache lookups by result (hit, miss, bypass, uncacheable)',
    });
    this.sheds = meter.createCounter('gateway_shed_turns', {
      description: 'Turns refused for load, by priority and reason',
    });
    this.quotaRejections = meter.createCounter('gateway_quota_rejections', {
      description: 'Requests refused by tenant quota',
    });
    this.replays = meter.createCounter('gateway_idempotent_replays', {
      description: 'Responses replayed for an Idempotency-Key',
    });
    this.turns = meter.createCounter('gateway_turns', {
      description: 'Turns finished, by priority and outcome',
    });
    this.inFlight = meter.createUpDownCounter('gateway_turns_in_flight', {
      description: 'Turns this replica is running',
    });
  }

  cacheLookup(result: CacheLookupResult): void {
    this.cacheLookups.add(1, { result });
  }

  shed(priority: Priority, reason: ShedReason): void {
    this.sheds.add(1, { priority, reason });
  }

  quotaRejected(limitedBy: 'requests' | 'tokens'): void {
    this.quotaRejections.add(1, { limit: limitedBy });
  }

  idempotentReplay(): void {
    this.replays.add(1);
  }

  turnFinished(priority: Priority, outcome: 'completed' | 'failed' | 'cancelled'): void {
    this.turns.add(1, { priority, outcome });
  }

  turnsInFlight(delta: number): void {
    this.inFlight.add(delta);
  }

  /** The Prometheus text exposition of every gateway metric. */
  async scrape(): Promise<string> {
    const { resourceMetrics } = await this.reader.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}
