import type { ShardView } from '../placement/shard-view.js';
import {
  predictPrefillMs,
  type LatencyModelConfig,
  type LatencyPrediction,
} from './latency-model.js';

/**
 * What this router last sent each conversation's shard: a sketch of the prompt's block hashes. A
 * shard's load report lists only its most recently served prefix blocks (the inference adapter keeps
 * 1,024: 16 k tokens), so a conversation whose context is longer than that, or whose shard has
 * served other prompts since, looks uncached there although the shard still holds it. The router
 * knows better: it put that context there.
 *
 * The sketch is the hashes at the deepest block and then at doubling gaps below it (about log₂ of
 * the prompt's blocks: 13 for a 100 k-token prompt). Block hashes chain their parents, so a new
 * prompt with the same hash at one of those depths shares the whole prefix down to it, and the
 * shard holds at least that much of it, unless it evicted it since (an optimistic estimate, as the
 * shards' own reports are). A chat's next prompt parts from the last one near its end (the chat
 * template's closing tokens), where the sketch is densest.
 *
 * Bounded: the least recently placed conversations are forgotten first.
 */
export class PlacedPrefixes {
  private readonly byConversation = new Map<string, PlacedPrefix>();

  constructor(readonly capacity = 65_536) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.byConversation.size;
  }

  /** The conversation's turn with `blocks` was placed on `shardId`. */
  record(conversationId: string, shardId: string, blocks: readonly number[]): void {
    const map = this.byConversation;
    map.delete(conversationId);
    if (blocks.length === 0) return;
    const depths: number[] = [];
    const hashes: number[] = [];
    for (let index = blocks.length - 1, gap = 1; index >= 0; index -= gap, gap *= 2) {
      depths.push(index);
      hashes.push(blocks[index] ?? 0);
    }
    map.set(conversationId, { shardId, depths, hashes });
    if (map.size > this.capacity) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }

  /**
   * Leading blocks of `blocks` that the router's last placement for the conversation sent to
   * `shardId` (to the sketch's precision: a lower bound), or 0.
   */
  heldOn(conversationId: string, shardId: string, blocks: readonly number[]): number {
    const placed = this.byConversation.get(conversationId);
    if (placed === undefined || placed.shardId !== shardId) return 0;
    const { depths, hashes } = placed;
    for (let i = 0; i < depths.length; i++) {
      const depth = depths[i] ?? 0;
      if (depth < blocks.length && blocks[depth] === hashes[i]) return depth + 1;
    }
    return 0;
  }
}

interface PlacedPrefix {
  readonly shardId: string;
  /** Block indexes sketched, deepest first, and the hash at each. */
  readonly depths: readonly number[];
  readonly hashes: readonly number[];
}

/**
 * The prediction on `shard` if it holds `cachedBlocks` of the prompt, when that is more than the
 * prediction assumed (its prefill is then shorter); the prediction itself otherwise.
 */
export function withCachedPrefix(
  shard: ShardView,
  promptTokens: number,
  predicted: LatencyPrediction,
  cachedBlocks: number,
  latency: LatencyModelConfig,
): LatencyPrediction {
  if (cachedBlocks <= 0) return predicted;
  const prefillMs = predictPrefillMs(shard, promptTokens, cachedBlocks, latency);
  if (!(prefillMs < predicted.prefillMs)) return predicted;
  return {
    queueWaitMs: predicted.queueWaitMs,
    prefillMs,
    ttftMs: predicted.queueWaitMs + prefillMs,
  };
}
