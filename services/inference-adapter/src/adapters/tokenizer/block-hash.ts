// The hashes a shard reports must be the ones its simulated prefix cache holds: one implementation,
// gpu-sim's.
export { chainBlockHash, ROOT_BLOCK_HASH } from '@spillway/gpu-sim';
