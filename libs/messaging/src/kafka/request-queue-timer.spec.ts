import { jest } from '@jest/globals';
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';
import { installRequestQueueTimerFix } from './request-queue-timer.js';

// The queue as a connection drives it: push a request, and answer it by correlation id.
interface DrivenQueue {
  push(request: {
    entry: {
      correlationId: number;
      apiKey: number;
      apiName: string;
      apiVersion: number;
      resolve: () => void;
      reject: () => void;
    };
    expectResponse: boolean;
    sendRequest: () => void;
  }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(throttleTimeMs: number): void;
  destroy(): void;
}

const silentLogger = { debug: () => undefined, warn: () => undefined };

function aQueue(maxInFlightRequests = 1) {
  const QueueClass = RequestQueue as unknown as new (options: object) => DrivenQueue;
  const queue = new QueueClass({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'spec',
    broker: '127.0.0.1:0',
    logger: silentLogger,
  });
  const sent: number[] = [];
  let nextId = 0;
  return {
    queue,
    sent,
    send: (): number => {
      const correlationId = nextId++;
      queue.push({
        entry: {
          correlationId,
          apiKey: 18,
          apiName: 'ApiVersions',
          apiVersion: 2,
          resolve: () => undefined,
          reject: () => undefined,
        },
        expectResponse: true,
        sendRequest: () => sent.push(correlationId),
      });
      return correlationId;
    },
    answer: (correlationId: number) =>
      queue.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 }),
  };
}

/** Nothing is waiting: any timer left must run out instead of scheduling itself again. */
function expectSettled(): void {
  jest.runOnlyPendingTimers();
  expect(jest.getTimerCount()).toBe(0);
}

describe("kafkajs request queue's pending-request timer", () => {
  beforeAll(() => installRequestQueueTimerFix());
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('schedules nothing once a request is answered and none waits', () => {
    const { send, answer, sent } = aQueue();

    answer(send());

    expect(sent).toEqual([0]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends a request held back by the in-flight limit once the one in flight is answered', () => {
    const { send, answer, sent } = aQueue(1);
    const first = send();
    send();
    expect(sent).toEqual([first]);

    answer(first);

    expect(sent).toEqual([0, 1]);
    expectSettled();
  });

  it('sends a request held back by a broker throttle when the throttle ends', () => {
    const { queue, send, sent } = aQueue(10);
    queue.maybeThrottle(200);

    send();
    jest.advanceTimersByTime(199);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);

    expect(sent).toEqual([0]);
    expectSettled();
  });
});
