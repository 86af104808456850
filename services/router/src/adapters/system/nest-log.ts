import { Logger } from '@nestjs/common';
import type { LogFields, LogPort } from '../../application/index.js';
import type { MessagingLogger } from '@spillway/messaging';

/** LogPort on Nest's logger: one line per event, fields as JSON after the message. */
export function nestLog(context: string): LogPort {
  const logger = new Logger(context);
  return {
    debug: (message, fields) =>
      logger.debug(line(message, typeof fields === 'function' ? fields() : fields)),
    info: (message, fields) => logger.log(line(message, fields)),
    warn: (message, fields) => logger.warn(line(message, fields)),
    error: (message, fields) => logger.error(line(message, fields)),
  };
}

export function messagingLog(log: LogPort): MessagingLogger {
  return {
    debug: () => undefined,
    info: (message, fields) => log.info(message, flat(fields)),
    warn: (message, fields) => log.warn(message, flat(fields)),
    error: (message, fields) => log.error(message, flat(fields)),
  };
}

function line(message: string, fields: LogFields | undefined): string {
  if (fields === undefined) return message;
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return Object.keys(defined).length > 0 ? `${message} ${JSON.stringify(defined)}` : message;
}

function flat(fields: Readonly<Record<string, unknown>> | undefined): LogFields | undefined {
  if (fields === undefined) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[key] = value;
    else if (value !== undefined) out[key] = JSON.stringify(value);
  }
  return out;
}
