export const CLOCK = Symbol('Clock');

export interface Clock {
  /** Unix epoch milliseconds. */
  nowMs(): number;
}
