import { randomUUID } from 'node:crypto';
import type { Clock, IdGenerator, Timer } from '../../application/index.js';

export const systemClock: Clock = { nowMs: () => Date.now() };

export const systemTimer: Timer = {
  schedule(ms, fn) {
    const handle = setTimeout(fn, ms);
    // A pending watchdog must never keep a stopping process alive.
    handle.unref();
    return () => clearTimeout(handle);
  },
};

export const uuidIds: IdGenerator = { next: () => randomUUID() };
