export const LOG_PORT = Symbol('LogPort');

/** Structured logging for use cases; the adapter behind it decides the format. */
export interface LogPort {
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}
