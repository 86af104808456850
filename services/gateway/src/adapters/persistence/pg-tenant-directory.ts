import type pg from 'pg';
import {
  type StoredApiKey,
  type TenantDirectory,
} from '../../application/ports/tenant-directory.port.js';
import { API_KEY_PREFIX } from '../../domain/api-key.js';
import { asDependency } from '../dependency-error.js';
import { type ApiKeyRecord, isTier, type Tenant } from '../../domain/tenant.js';

interface TenantRow {
  id: string;
  name: string;
  tier: string;
  requests_per_minute: number;
  tokens_per_minute: string;
  created_at: Date;
}

interface KeyRow {
  id: string;
  tenant_id: string;
  prefix: string;
  name: string;
  created_at: Date;
  revoked_at: Date | null;
}

const TENANT_COLUMNS =
  't.id, t.name, t.tier, t.requests_per_minute, t.tokens_per_minute, t.created_at';
const KEY_COLUMNS = 'k.id, k.tenant_id, k.prefix, k.name, k.created_at, k.revoked_at';

export class PgTenantDirectory implements TenantDirectory {
  constructor(private readonly pool: pg.Pool) {}

  findKeyByLookupId(lookupId: string): Promise<StoredApiKey | undefined> {
    return asDependency('the tenant directory', () => this.queryKey(lookupId));
  }

  private async queryKey(lookupId: string): Promise<StoredApiKey | undefined> {
    const { rows } = await this.pool.query<
      KeyRow & { secret_sha256: string } & { [K in keyof TenantRow as `t_${K}`]: TenantRow[K] }
    >(
      `SELECT ${KEY_COLUMNS}, k.secret_sha256,
              t.id AS t_id, t.name AS t_name, t.tier AS t_tier, t.requests_per_minute AS t_requests_per_minute,
              t.tokens_per_minute AS t_tokens_per_minute, t.created_at AS t_created_at
         FROM gateway_api_keys k JOIN gateway_tenants t ON t.id = k.tenant_id
        WHERE k.lookup_id = $1`,
      [lookupId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      key: toKey(row),
      secretHash: row.secret_sha256,
      tenant: toTenant({
        id: row.t_id,
        name: row.t_name,
        tier: row.t_tier,
        requests_per_minute: row.t_requests_per_minute,
        tokens_per_minute: row.t_tokens_per_minute,
        created_at: row.t_created_at,
      }),
    };
  }

  async createTenant(tenant: Tenant): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO gateway_tenants (id, name, tier, requests_per_minute, tokens_per_minute, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`,
      [
        tenant.id,
        tenant.name,
        tenant.tier,
        tenant.limits.requestsPerMinute,
        tenant.limits.tokensPerMinute,
        tenant.createdAt,
      ],
    );
    return result.rowCount === 1;
  }

  async findTenant(idOrName: string): Promise<Tenant | undefined> {
    const { rows } = await this.pool.query<TenantRow>(
      `SELECT ${TENANT_COLUMNS} FROM gateway_tenants t WHERE t.id = $1 OR t.name = $1`,
      [idOrName],
    );
    return rows[0] ? toTenant(rows[0]) : undefined;
  }

  async listTenants(): Promise<readonly Tenant[]> {
    const { rows } = await this.pool.query<TenantRow>(
      `SELECT ${TENANT_COLUMNS} FROM gateway_tenants t ORDER BY t.created_at, t.id`,
    );
    return rows.map(toTenant);
  }

  async updateTenant(tenant: Tenant): Promise<void> {
    await this.pool.query(
      `UPDATE gateway_tenants SET tier = $2, requests_per_minute = $3, tokens_per_minute = $4 WHERE id = $1`,
      [tenant.id, tenant.tier, tenant.limits.requestsPerMinute, tenant.limits.tokensPerMinute],
    );
  }

  async createApiKey(key: ApiKeyRecord, secretHash: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO gateway_api_keys (id, tenant_id, lookup_id, prefix, secret_sha256, name, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        key.id,
        key.tenantId,
        key.prefix.slice(API_KEY_PREFIX.length),
        key.prefix,
        secretHash,
        key.name,
        key.createdAt,
      ],
    );
  }

  async listApiKeys(tenantId: string): Promise<readonly ApiKeyRecord[]> {
    const { rows } = await this.pool.query<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM gateway_api_keys k WHERE k.tenant_id = $1 ORDER BY k.created_at`,
      [tenantId],
    );
    return rows.map(toKey);
  }

  async revokeApiKey(idOrPrefix: string, at: Date): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.pool.query<KeyRow>(
      `UPDATE gateway_api_keys k SET revoked_at = COALESCE(k.revoked_at, $2)
        WHERE k.id = $1 OR k.prefix = $1 RETURNING ${KEY_COLUMNS}`,
      [idOrPrefix, at],
    );
    return rows[0] ? toKey(rows[0]) : undefined;
  }
}

function toTenant(row: TenantRow): Tenant {
  if (!isTier(row.tier))
    throw new Error(`gateway_tenants row ${row.id} has unknown tier ${row.tier}`);
  return {
    id: row.id,
    name: row.name,
    tier: row.tier,
    limits: {
      requestsPerMinute: row.requests_per_minute,
      tokensPerMinute: Number(row.tokens_per_minute),
    },
    createdAt: row.created_at,
  };
}

function toKey(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    prefix: row.prefix,
    name: row.name,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
