/** Identifiers are a side effect too: tests pass a sequence. */
export interface IdGenerator {
  next(): string;
}
