/** The logging port of this library; services adapt their own logger (pino, Nest) to it. */
export interface MessagingLogger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

type Level = keyof MessagingLogger;
const ORDER: readonly Level[] = ['debug', 'info', 'warn', 'error'];

/** JSON lines on stderr at `minimum` and above; the default when a caller passes no logger. */
export function jsonLogger(minimum: Level = 'warn', name = 'spillway.messaging'): MessagingLogger {
  const threshold = ORDER.indexOf(minimum);
  const write = (level: Level) => (message: string, fields?: Readonly<Record<string, unknown>>) => {
    if (ORDER.indexOf(level) < threshold) return;
    process.stderr.write(
      `${JSON.stringify({ level, time: new Date().toISOString(), logger: name, message, ...fields })}\n`,
    );
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

export const silentLogger: MessagingLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
