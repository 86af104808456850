import { z } from 'zod';
import { MAX_REQUESTS_PER_MINUTE, MAX_TOKENS_PER_MINUTE, TIERS } from '../../../domain/tenant.js';

const rpm = z.int({ error: 'must be an integer' }).min(1).max(MAX_REQUESTS_PER_MINUTE);
const tpm = z.int({ error: 'must be an integer' }).min(1).max(MAX_TOKENS_PER_MINUTE);

export const createTenantSchema = z.strictObject({
  name: z.string({ error: 'is required and must be a string' }),
  tier: z.enum(TIERS, { error: `must be one of ${TIERS.join(', ')}` }),
  requests_per_minute: rpm,
  tokens_per_minute: tpm,
});

export const updateTenantSchema = z.strictObject({
  tier: z.enum(TIERS, { error: `must be one of ${TIERS.join(', ')}` }).optional(),
  requests_per_minute: rpm.optional(),
  tokens_per_minute: tpm.optional(),
});

export const createApiKeySchema = z.strictObject({
  name: z.string({ error: 'must be a string' }).max(128).optional(),
});
