import { readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { EngineProfile } from '../../domain/engine-profile.js';

/** `services/gpu-sim/profiles`, found from this module (src/… under Jest, dist/… at run time). */
export const PROFILES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../profiles');

const positive = z.number().positive();
const batchPoint = z.tuple([z.number().int().positive(), z.number().positive()]);

/** The part of a profile file the simulator runs on; references and sources are for people and benches. */
export const profileFileSchema = z.looseObject({
  id: z.string().min(1),
  model: z.looseObject({ servedName: z.string().min(1) }),
  modelLoadTimeMs: z.number().min(0),
  frontendOverheadMs: z.number().min(0),
  kvCache: z.object({ blockSizeTokens: z.literal(16), numBlocks: z.number().int().positive() }),
  scheduler: z.object({
    maxNumSeqs: z.number().int().positive(),
    maxNumBatchedTokens: z.number().int().positive(),
    maxModelLen: z.number().int().positive(),
  }),
  timing: z.object({
    stepOverheadMs: z.number().min(0),
    prefillMsPerToken: positive,
    prefillAttentionMsPerMillionPairs: z.number().min(0),
    decodeStepMs: z
      .array(batchPoint)
      .min(1)
      .refine(
        (points) => points.every((p, i) => i === 0 || p[0] > (points[i - 1]?.[0] ?? 0)),
        'batch sizes must ascend',
      )
      .refine(
        (points) => points.every((p, i) => i === 0 || p[1] >= (points[i - 1]?.[1] ?? 0)),
        'step times must not fall as the batch grows',
      ),
    kvReadMsPerThousandTokens: z.number().min(0),
  }),
  sources: z.array(z.looseObject({ id: z.string(), title: z.string(), url: z.string() })).min(1),
});

export type ProfileFile = z.infer<typeof profileFileSchema>;

export function toEngineProfile(file: ProfileFile): EngineProfile {
  return {
    id: file.id,
    modelName: file.model.servedName,
    modelLoadMs: file.modelLoadTimeMs,
    frontendOverheadMs: file.frontendOverheadMs,
    kvCache: file.kvCache,
    scheduler: file.scheduler,
    timing: file.timing,
  };
}

/** Profile ids shipped with the package. */
export function listProfiles(): string[] {
  return readdirSync(PROFILES_DIR)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

/** Loads a profile by id (a file in PROFILES_DIR) or by path; throws naming the file and field. */
export function loadProfile(idOrPath: string): EngineProfile {
  const path =
    idOrPath.endsWith('.json') || idOrPath.includes('/')
      ? isAbsolute(idOrPath)
        ? idOrPath
        : resolve(process.cwd(), idOrPath)
      : join(PROFILES_DIR, `${idOrPath}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const known = listProfiles().join(', ');
    throw new Error(
      `cannot read profile ${JSON.stringify(idOrPath)} (${path}): ${(error as Error).message}; shipped profiles: ${known}`,
      {
        cause: error,
      },
    );
  }
  const parsed = profileFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `profile ${path}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return toEngineProfile(parsed.data);
}
