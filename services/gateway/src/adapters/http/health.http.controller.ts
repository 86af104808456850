import { Controller, Get } from '@nestjs/common';

interface HealthResponse {
  readonly status: 'ok';
  readonly service: 'gateway';
}

@Controller()
export class HealthHttpController {
  @Get('healthz')
  health(): HealthResponse {
    return { status: 'ok', service: 'gateway' };
  }
}
