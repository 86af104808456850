import { randomUUID } from 'node:crypto';
import type { Clock, IdGenerator } from '../../application/ports/clock.port.js';

export const systemClock: Clock = { nowMs: () => Date.now() };
export const uuidGenerator: IdGenerator = { newId: () => randomUUID() };
