export interface Clock {
  nowMs(): number;
}

export interface IdGenerator {
  /** A new UUID. */
  newId(): string;
}

export const CLOCK = Symbol('Clock');
export const ID_GENERATOR = Symbol('IdGenerator');
export const TOKEN_ESTIMATOR = Symbol('TokenEstimator');
