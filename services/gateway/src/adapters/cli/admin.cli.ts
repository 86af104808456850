import { parseArgs } from 'node:util';
import { isDomainError } from '@spillway/errors';
import { type AdministerTenants } from '../../application/administer-tenants/administer-tenants.use-case.js';
import { type ApiKeyRecord, type Tenant, TIERS } from '../../domain/tenant.js';

export const ADMIN_USAGE = `Usage: npm run admin -w @spillway/gateway -- <command> [options]

Commands:
  create-tenant --name <name> --tier <${TIERS.join('|')}> --rpm <requests/min> --tpm <tokens/min>
  update-tenant --tenant <id|name> [--tier <tier>] [--rpm <n>] [--tpm <n>]
  list-tenants
  create-key    --tenant <id|name> [--name <label>]     prints the key once; store it now
  list-keys     --tenant <id|name>
  revoke-key    --key <key id|sk-spw-prefix>

Options:
  --json        print JSON instead of text
Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/spillway_gateway)`;

export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

/** Runs one admin command; returns the process exit code (0 ok, 1 refused, 2 usage). */
export async function runAdminCli(
  argv: readonly string[],
  admin: AdministerTenants,
  output: CliOutput,
): Promise<number> {
  const [command, ...rest] = argv;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        name: { type: 'string' },
        tier: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        tenant: { type: 'string' },
        key: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    output.err(`${(error as Error).message}\n\n${ADMIN_USAGE}`);
    return 2;
  }
  const json = values.json === true;
  const required = (name: string): string => {
    const value = values[name];
    if (typeof value !== 'string' || value === '')
      throw new UsageError(`--${name} is required for ${command}`);
    return value;
  };
  const optionalNumber = (name: string): number | undefined =>
    typeof values[name] === 'string' ? toNumber(name, values[name]) : undefined;
  const print = (value: unknown, text: string): void =>
    output.out(json ? JSON.stringify(value, null, 2) : text);

  try {
    switch (command) {
      case 'create-tenant': {
        const tenant = await admin.createTenant({
          name: required('name'),
          tier: required('tier'),
          requestsPerMinute: toNumber('rpm', required('rpm')),
          tokensPerMinute: toNumber('tpm', required('tpm')),
        });
        print(tenantJson(tenant), `created tenant ${describeTenant(tenant)}`);
        return 0;
      }
      case 'update-tenant': {
        const rpm = optionalNumber('rpm');
        const tpm = optionalNumber('tpm');
        const tier = values.tier;
        const tenant = await admin.updateTenant({
          tenant: required('tenant'),
          ...(typeof tier === 'string' ? { tier } : {}),
          ...(rpm !== undefined ? { requestsPerMinute: rpm } : {}),
          ...(tpm !== undefined ? { tokensPerMinute: tpm } : {}),
        });
        print(tenantJson(tenant), `updated tenant ${describeTenant(tenant)}`);
        return 0;
      }
      case 'list-tenants': {
        const tenants = await admin.listTenants();
        print(tenants.map(tenantJson), tenants.map(describeTenant).join('\n') || '(no tenants)');
        return 0;
      }
      case 'create-key': {
        const created = await admin.createApiKey(
          required('tenant'),
          typeof values.name === 'string' ? values.name : '',
        );
        print(
          { ...keyJson(created.record), api_key: created.apiKey },
          `created key ${created.record.id} for tenant ${created.record.tenantId}\n\n  ${created.apiKey}\n\nThis is the only time the key is shown; only its hash is stored.`,
        );
        return 0;
      }
      case 'list-keys': {
        const keys = await admin.listApiKeys(required('tenant'));
        print(keys.map(keyJson), keys.map(describeKey).join('\n') || '(no keys)');
        return 0;
      }
      case 'revoke-key': {
        const key = await admin.revokeApiKey(required('key'));
        print(keyJson(key), `revoked ${describeKey(key)}`);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
        output.out(ADMIN_USAGE);
        return command === undefined ? 2 : 0;
      default:
        output.err(`unknown command '${command}'\n\n${ADMIN_USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`${error.message}\n\n${ADMIN_USAGE}`);
      return 2;
    }
    if (isDomainError(error)) {
      output.err(`refused: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

class UsageError extends Error {}

function toNumber(name: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number; got '${raw}'`);
  return Number(raw);
}

function tenantJson(tenant: Tenant) {
  return {
    id: tenant.id,
    name: tenant.name,
    tier: tenant.tier,
    requests_per_minute: tenant.limits.requestsPerMinute,
    tokens_per_minute: tenant.limits.tokensPerMinute,
    created_at: tenant.createdAt.toISOString(),
  };
}

function keyJson(key: ApiKeyRecord) {
  return {
    id: key.id,
    tenant_id: key.tenantId,
    prefix: key.prefix,
    name: key.name,
    created_at: key.createdAt.toISOString(),
    revoked_at: key.revokedAt?.toISOString() ?? null,
  };
}

function describeTenant(tenant: Tenant): string {
  return `${tenant.name} (${tenant.id}) tier=${tenant.tier} rpm=${tenant.limits.requestsPerMinute} tpm=${tenant.limits.tokensPerMinute}`;
}

function describeKey(key: ApiKeyRecord): string {
  return `${key.id} ${key.prefix}… ${key.name === '' ? '' : `"${key.name}" `}${key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active'}`;
}
