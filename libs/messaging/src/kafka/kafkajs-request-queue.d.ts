// kafkajs publishes no types for its internals. This is the slice of its per-connection request
// queue that request-queue-timer.ts replaces a method of; see there for why.
declare module 'kafkajs/src/network/requestQueue/index.js' {
  class RequestQueue {
    /** Requests waiting for an in-flight slot or for a broker throttle to end. */
    pending: unknown[];
    /** Epoch ms until which the broker asked this connection to hold requests; -1 when never. */
    throttledUntil: number;
    throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
  }
  export = RequestQueue;
}
