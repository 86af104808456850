import { EngineFailure } from './engine.port.js';

/**
 * The error a use case ends with when its caller went away: named AbortError, which the gRPC
 * layer treats as a cancellation and not as a failure to report.
 */
export function callerCancelled(): Error {
  const error = new Error('the caller cancelled the call');
  error.name = 'AbortError';
  return error;
}

export function isCancellation(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (error instanceof EngineFailure && error.kind === 'cancelled');
}
