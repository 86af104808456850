import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';

/** kafkajs's own poll interval for requests held back while none of them can be sent. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/**
 * Works around a kafkajs 2.2.4 bug (tulios/kafkajs#1704, #1751; unmaintained, so no release will
 * fix it) in the request queue every broker connection has. After each response it schedules its
 * next look at the held-back requests `throttledUntil - Date.now()` ms ahead, even when nothing is
 * held back and no throttle is set (`throttledUntil` is -1). That delay is about -1.8e12: Node 24
 * prints `TimeoutNegativeWarning ... Timeout duration was set to 1`, and the timer fires after
 * 1 ms and schedules itself again, so every idle connection wakes the process ~1000 times a second
 * until it is closed.
 *
 * No client option avoids that path, so the one method is replaced on the class at load time (a
 * method can be; the encoder's allocation, in a constructor, could not, and is fixed in
 * patches/kafkajs+2.2.4.patch instead). The replacement keeps kafkajs's contract: a request held back
 * (in-flight limit or broker throttle) is looked at again when the throttle ends, or every 10 ms
 * while it only waits for a slot (a response also frees one and looks at once). With nothing held
 * back it schedules nothing: the next held-back request schedules its own look when it is queued.
 * request-queue-timer.spec.ts runs the real queue through those cases, so a kafkajs upgrade that
 * changes the queue fails there first; drop this file once the client is replaced or fixed.
 */
export function installRequestQueueTimerFix(): void {
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
}

function scheduleCheckPendingRequests(this: RequestQueue): void {
  if (this.throttleCheckTimeoutId !== null || this.pending.length === 0) return;
  const untilUnthrottledMs = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottledMs > 0 ? untilUnthrottledMs : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}
