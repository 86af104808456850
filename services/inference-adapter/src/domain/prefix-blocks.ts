/**
 * Keeps the most recently served prompt prefix block hashes, most recent first, without duplicates
 * and at most `limit` of them. Block hashes chain (each names its whole prefix), so the deepest
 * block of the latest prompt goes first: it names the longest prefix this shard holds.
 */
export function rememberPrefixBlocks(
  recent: readonly number[],
  served: readonly number[],
  limit: number,
): number[] {
  const fresh = [...served].reverse();
  const seen = new Set(fresh);
  const kept = recent.filter((hash) => !seen.has(hash));
  return [...fresh, ...kept].slice(0, limit);
}
