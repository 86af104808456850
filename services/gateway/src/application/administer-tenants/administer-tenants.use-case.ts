import { formatApiKey, LOOKUP_ID_LENGTH, SECRET_LENGTH } from '../../domain/api-key.js';
import {
  type ApiKeyRecord,
  isTier,
  MAX_REQUESTS_PER_MINUTE,
  MAX_TOKENS_PER_MINUTE,
  type Tenant,
  TENANT_NAME_PATTERN,
  TIERS,
  type Tier,
} from '../../domain/tenant.js';
import { sha256Hex } from '../authenticate/authenticate-api-key.use-case.js';
import { invalidRequest } from '../errors.js';
import { type Clock, type RandomSource } from '../ports/system.port.js';
import { type TenantDirectory } from '../ports/tenant-directory.port.js';

export interface CreateTenantCommand {
  readonly name: string;
  readonly tier: string;
  readonly requestsPerMinute: number;
  readonly tokensPerMinute: number;
}

export interface UpdateTenantCommand {
  readonly tenant: string;
  readonly tier?: string;
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
}

export interface CreatedApiKey {
  readonly record: ApiKeyRecord;
  /** The only time the whole key exists outside the client. */
  readonly apiKey: string;
}

/** Operator actions behind the admin CLI and the admin endpoints. */
export class AdministerTenants {
  constructor(
    private readonly directory: TenantDirectory,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {}

  async createTenant(command: CreateTenantCommand): Promise<Tenant> {
    if (!TENANT_NAME_PATTERN.test(command.name)) {
      throw invalidRequest(
        'name',
        'Tenant names are 1-63 characters of a-z, 0-9 and -, starting with a letter or digit.',
      );
    }
    const tenant: Tenant = {
      id: `ten_${this.random.base62(16)}`,
      name: command.name,
      tier: checkedTier(command.tier),
      limits: {
        requestsPerMinute: checkedLimit('rpm', command.requestsPerMinute, MAX_REQUESTS_PER_MINUTE),
        tokensPerMinute: checkedLimit('tpm', command.tokensPerMinute, MAX_TOKENS_PER_MINUTE),
      },
      createdAt: new Date(this.clock.nowMs()),
    };
    if (!(await this.directory.createTenant(tenant))) {
      throw invalidRequest(
        'name',
        `A tenant named '${command.name}' exists already.`,
        'tenant_exists',
      );
    }
    return tenant;
  }

  async updateTenant(command: UpdateTenantCommand): Promise<Tenant> {
    const tenant = await this.requireTenant(command.tenant);
    const updated: Tenant = {
      ...tenant,
      tier: command.tier === undefined ? tenant.tier : checkedTier(command.tier),
      limits: {
        requestsPerMinute:
          command.requestsPerMinute === undefined
            ? tenant.limits.requestsPerMinute
            : checkedLimit('rpm', command.requestsPerMinute, MAX_REQUESTS_PER_MINUTE),
        tokensPerMinute:
          command.tokensPerMinute === undefined
            ? tenant.limits.tokensPerMinute
            : checkedLimit('tpm', command.tokensPerMinute, MAX_TOKENS_PER_MINUTE),
      },
    };
    await this.directory.updateTenant(updated);
    return updated;
  }

  async createApiKey(tenantIdOrName: string, name = ''): Promise<CreatedApiKey> {
    const tenant = await this.requireTenant(tenantIdOrName);
    if (name.length > 128) throw invalidRequest('name', 'Key names are at most 128 characters.');
    const lookupId = this.random.base62(LOOKUP_ID_LENGTH);
    const apiKey = formatApiKey(lookupId, this.random.base62(SECRET_LENGTH));
    const record: ApiKeyRecord = {
      id: `key_${this.random.base62(16)}`,
      tenantId: tenant.id,
      prefix: apiKey.slice(0, apiKey.length - SECRET_LENGTH),
      name,
      createdAt: new Date(this.clock.nowMs()),
      revokedAt: null,
    };
    await this.directory.createApiKey(record, sha256Hex(apiKey));
    return { record, apiKey };
  }

  async revokeApiKey(idOrPrefix: string): Promise<ApiKeyRecord> {
    const revoked = await this.directory.revokeApiKey(idOrPrefix, new Date(this.clock.nowMs()));
    if (!revoked) throw invalidRequest('key', `No API key '${idOrPrefix}'.`, 'key_not_found');
    return revoked;
  }

  listTenants(): Promise<readonly Tenant[]> {
    return this.directory.listTenants();
  }

  async listApiKeys(tenantIdOrName: string): Promise<readonly ApiKeyRecord[]> {
    return this.directory.listApiKeys((await this.requireTenant(tenantIdOrName)).id);
  }

  private async requireTenant(idOrName: string): Promise<Tenant> {
    const tenant = await this.directory.findTenant(idOrName);
    if (!tenant) throw invalidRequest('tenant', `No tenant '${idOrName}'.`, 'tenant_not_found');
    return tenant;
  }
}

function checkedTier(tier: string): Tier {
  if (!isTier(tier))
    throw invalidRequest('tier', `Unknown tier '${tier}'; expected one of ${TIERS.join(', ')}.`);
  return tier;
}

function checkedLimit(param: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw invalidRequest(param, `${param} must be a whole number from 1 to ${max}; got ${value}.`);
  }
  return value;
}
