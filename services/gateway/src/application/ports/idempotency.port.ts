import { type CompletedTurn } from '../../domain/chat.js';

export type IdempotencyClaim =
  | { readonly status: 'acquired' }
  | { readonly status: 'in_progress' }
  | { readonly status: 'completed'; readonly turn: CompletedTurn }
  /** The key was used before with a different request. */
  | { readonly status: 'mismatch' };

/** Idempotency records shared by every replica (Redis). `scope` is the tenant. */
export interface IdempotencyStore {
  claim(
    scope: string,
    key: string,
    fingerprint: string,
    pendingTtlMs: number,
  ): Promise<IdempotencyClaim>;
  complete(
    scope: string,
    key: string,
    fingerprint: string,
    turn: CompletedTurn,
    ttlMs: number,
  ): Promise<void>;
  /** Frees the key after a failed turn so the client's retry runs it again. */
  abandon(scope: string, key: string): Promise<void>;
}
