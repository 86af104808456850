import { Controller, Get, Header, Inject } from '@nestjs/common';
import { OtelGatewayMetrics } from '../metrics/otel-gateway-metrics.js';

@Controller()
export class MetricsHttpController {
  constructor(@Inject(OtelGatewayMetrics) private readonly metrics: OtelGatewayMetrics) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
