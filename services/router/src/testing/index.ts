// Test and benchmark tooling (@spillway/router/testing): a real plane of child processes and
// helpers to drive turns through it. Not used by the service itself.
export * from './router-plane.js';
export * from './turns.js';
export * from './failover-scenario.js';
