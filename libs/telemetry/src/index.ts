export * from './start-telemetry.js';
export * from './propagation.js';
export * from './spans.js';
