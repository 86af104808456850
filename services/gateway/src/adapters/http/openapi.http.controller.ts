import { Controller, Get, Inject } from '@nestjs/common';
import { HTTP_SETTINGS, type HttpSettings } from './http-settings.js';
import { buildOpenApiDocument } from './openapi.js';

@Controller()
export class OpenApiHttpController {
  private readonly document: Record<string, unknown>;

  constructor(@Inject(HTTP_SETTINGS) settings: HttpSettings) {
    this.document = buildOpenApiDocument(settings.limits);
  }

  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }
}
