export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface LogPort {
  /**
   * Per-turn detail (placements, refusals); off unless LOG_LEVEL=debug. The fields may be given as
   * a function, called only when the line is written: the turn path logs once per turn.
   */
  debug(message: string, fields?: LogFields | (() => LogFields)): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const SILENT_LOG: LogPort = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
