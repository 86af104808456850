import { type CompletedTurn } from '../../domain/chat.js';

/** Tenant-scoped cache of deterministic completions (Redis). */
export interface ResponseCache {
  get(tenantId: string, keyMaterial: string): Promise<CompletedTurn | undefined>;
  put(tenantId: string, keyMaterial: string, turn: CompletedTurn, ttlMs: number): Promise<void>;
}
