export const REPORT_LOAD = Symbol('ReportLoad');
export const SHUTDOWN_HOOKS = Symbol('ShutdownHooks');

/** Closes a connection the composition root opened (Kafka producer, registry channel). */
export type ShutdownHook = () => Promise<void> | void;
