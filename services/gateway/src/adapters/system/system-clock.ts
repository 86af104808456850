import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type Clock, type Log, type RandomSource } from '../../application/ports/system.port.js';

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, signal ? { signal } : {});
  },
};

const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const cryptoRandom: RandomSource = {
  base62: (length) => {
    let out = '';
    for (let i = 0; i < length; i += 1) out += BASE62_ALPHABET[randomInt(BASE62_ALPHABET.length)];
    return out;
  },
};

/** One JSON line per entry on stderr, the same place Nest's logger writes. */
export const stderrLog: Log = {
  warn: (message, fields) =>
    process.stderr.write(`${JSON.stringify({ level: 'warn', message, ...fields })}\n`),
  info: (message, fields) =>
    process.stderr.write(`${JSON.stringify({ level: 'info', message, ...fields })}\n`),
};
