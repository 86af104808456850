import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import { AdministerTenants } from '../../application/administer-tenants/administer-tenants.use-case.js';
import { type ApiKeyRecord, type Tenant } from '../../domain/tenant.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import {
  createApiKeySchema,
  createTenantSchema,
  updateTenantSchema,
} from './schemas/admin.schema.js';
import { parseWith } from './schemas/parse.js';

export function tenantView(tenant: Tenant) {
  return {
    id: tenant.id,
    object: 'tenant' as const,
    name: tenant.name,
    tier: tenant.tier,
    requests_per_minute: tenant.limits.requestsPerMinute,
    tokens_per_minute: tenant.limits.tokensPerMinute,
    created_at: Math.floor(tenant.createdAt.getTime() / 1000),
  };
}

export function apiKeyView(key: ApiKeyRecord) {
  return {
    id: key.id,
    object: 'api_key' as const,
    tenant_id: key.tenantId,
    prefix: key.prefix,
    name: key.name,
    created_at: Math.floor(key.createdAt.getTime() / 1000),
    revoked_at: key.revokedAt === null ? null : Math.floor(key.revokedAt.getTime() / 1000),
  };
}

/** Operator API, behind GATEWAY_ADMIN_TOKEN; the admin CLI does the same against the database. */
@Controller('admin/v1')
@UseGuards(AdminTokenGuard)
export class AdminHttpController {
  constructor(@Inject(AdministerTenants) private readonly admin: AdministerTenants) {}

  @Post('tenants')
  @HttpCode(201)
  async createTenant(@Body() body: unknown) {
    const parsed = parseWith(createTenantSchema, body);
    return tenantView(
      await this.admin.createTenant({
        name: parsed.name,
        tier: parsed.tier,
        requestsPerMinute: parsed.requests_per_minute,
        tokensPerMinute: parsed.tokens_per_minute,
      }),
    );
  }

  @Get('tenants')
  async listTenants() {
    return { object: 'list' as const, data: (await this.admin.listTenants()).map(tenantView) };
  }

  @Patch('tenants/:tenant')
  async updateTenant(@Param('tenant') tenant: string, @Body() body: unknown) {
    const parsed = parseWith(updateTenantSchema, body);
    return tenantView(
      await this.admin.updateTenant({
        tenant,
        ...(parsed.tier !== undefined ? { tier: parsed.tier } : {}),
        ...(parsed.requests_per_minute !== undefined
          ? { requestsPerMinute: parsed.requests_per_minute }
          : {}),
        ...(parsed.tokens_per_minute !== undefined
          ? { tokensPerMinute: parsed.tokens_per_minute }
          : {}),
      }),
    );
  }

  @Post('tenants/:tenant/keys')
  @HttpCode(201)
  async createKey(@Param('tenant') tenant: string, @Body() body: unknown) {
    const parsed = parseWith(createApiKeySchema, body ?? {});
    const created = await this.admin.createApiKey(tenant, parsed.name ?? '');
    // The only response that ever carries the whole key.
    return { ...apiKeyView(created.record), api_key: created.apiKey };
  }

  @Get('tenants/:tenant/keys')
  async listKeys(@Param('tenant') tenant: string) {
    return {
      object: 'list' as const,
      data: (await this.admin.listApiKeys(tenant)).map(apiKeyView),
    };
  }

  @Post('keys/:key/revoke')
  @HttpCode(200)
  async revokeKey(@Param('key') key: string) {
    return apiKeyView(await this.admin.revokeApiKey(key));
  }
}
