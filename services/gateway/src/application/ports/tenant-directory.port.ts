import { type ApiKeyRecord, type Tenant } from '../../domain/tenant.js';

export interface StoredApiKey {
  readonly key: ApiKeyRecord;
  /** Hex SHA-256 of the whole key. */
  readonly secretHash: string;
  readonly tenant: Tenant;
}

/** Tenants and their API keys (PostgreSQL). */
export interface TenantDirectory {
  /** The key with this lookup id and its tenant, revoked or not; undefined when there is none. */
  findKeyByLookupId(lookupId: string): Promise<StoredApiKey | undefined>;
  /** Returns false when a tenant with that name exists already. */
  createTenant(tenant: Tenant): Promise<boolean>;
  /** By id or by name. */
  findTenant(idOrName: string): Promise<Tenant | undefined>;
  listTenants(): Promise<readonly Tenant[]>;
  updateTenant(tenant: Tenant): Promise<void>;
  createApiKey(key: ApiKeyRecord, secretHash: string): Promise<void>;
  listApiKeys(tenantId: string): Promise<readonly ApiKeyRecord[]>;
  /** By key id or public prefix; returns the key as revoked, or undefined when unknown. */
  revokeApiKey(idOrPrefix: string, at: Date): Promise<ApiKeyRecord | undefined>;
}
