/** Time is a port: unit tests pass a fixed clock. */
export interface Clock {
  nowMs(): number;
}
