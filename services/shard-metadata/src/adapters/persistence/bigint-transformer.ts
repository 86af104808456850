import type { ValueTransformer } from 'typeorm';

/**
 * pg returns int8 as a string (it can exceed 2^53). Our int8 columns hold epoch milliseconds,
 * versions and token counts, all far below that, so they are read as numbers.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | undefined) => value,
  from: (value: string | number | null) => (value === null ? 0 : Number(value)),
};
