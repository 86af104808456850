import { Logger } from '@nestjs/common';
import type { LogPort } from '../../application/log.port.js';

/** LogPort over Nest's logger, fields appended as JSON. */
export class NestLog implements LogPort {
  private readonly logger: Logger;

  constructor(context: string) {
    this.logger = new Logger(context);
  }

  info(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.logger.log(withFields(message, fields));
  }

  warn(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.logger.warn(withFields(message, fields));
  }

  error(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.logger.error(withFields(message, fields));
  }
}

function withFields(
  message: string,
  fields: Readonly<Record<string, unknown>> | undefined,
): string {
  return fields && Object.keys(fields).length > 0
    ? `${message} ${JSON.stringify(fields)}`
    : message;
}
