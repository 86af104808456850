import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Conversations } from '../../application/conversations/conversations.use-case.js';
import { type Tenant } from '../../domain/tenant.js';
import { ApiKeyGuard, AuthenticatedTenant } from './api-key.guard.js';
import { HTTP_SETTINGS, type HttpSettings } from './http-settings.js';
import { conversationView } from './openai-format.js';
import {
  conversationIdParam,
  fingerprintMaterial,
  idempotencyKeyOf,
  toSampling,
} from './request-headers.js';
import {
  createConversationSchema,
  listConversationsQuerySchema,
  sendTurnSchema,
} from './schemas/conversation.schema.js';
import { parseWith } from './schemas/parse.js';
import { sendTurn } from './turn-response.js';

type ConversationView = ReturnType<typeof conversationView>;

/** Spillway's stored conversations: the router keeps the history, clients send only the new turn. */
@Controller('v1/conversations')
@UseGuards(ApiKeyGuard)
export class ConversationsHttpController {
  private readonly createSchema: ReturnType<typeof createConversationSchema>;
  private readonly turnSchema: ReturnType<typeof sendTurnSchema>;

  constructor(
    @Inject(Conversations) private readonly conversations: Conversations,
    @Inject(HTTP_SETTINGS) private readonly settings: HttpSettings,
  ) {
    this.createSchema = createConversationSchema(settings.limits);
    this.turnSchema = sendTurnSchema(settings.limits);
  }

  @Post()
  @HttpCode(201)
  async create(
    @AuthenticatedTenant() tenant: Tenant,
    @Body() body: unknown,
  ): Promise<ConversationView> {
    const parsed = parseWith(this.createSchema, body);
    const conversation = await this.conversations.start({
      tenant,
      model: parsed.model,
      systemPrompt: parsed.system_prompt ?? '',
      labels: parsed.labels ?? {},
      ...(parsed.conversation_id !== undefined ? { conversationId: parsed.conversation_id } : {}),
    });
    return conversationView(conversation);
  }

  @Get()
  async list(@AuthenticatedTenant() tenant: Tenant, @Query() query: unknown) {
    const parsed = parseWith(listConversationsQuerySchema, query, 'query');
    const page = await this.conversations.list(tenant, parsed.limit ?? 20, parsed.after ?? '');
    return {
      object: 'list' as const,
      data: page.conversations.map((c) => conversationView(c, false)),
      has_more: page.nextPageToken !== '',
      next_page_token: page.nextPageToken === '' ? null : page.nextPageToken,
    };
  }

  @Get(':id')
  async get(
    @AuthenticatedTenant() tenant: Tenant,
    @Param('id') id: string,
  ): Promise<ConversationView> {
    return conversationView(await this.conversations.get(tenant, conversationIdParam(id)));
  }

  @Post(':id/close')
  @HttpCode(200)
  async close(
    @AuthenticatedTenant() tenant: Tenant,
    @Param('id') id: string,
  ): Promise<ConversationView> {
    return conversationView(await this.conversations.close(tenant, conversationIdParam(id)));
  }

  @Post(':id/turns')
  async sendTurn(
    @AuthenticatedTenant() tenant: Tenant,
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const conversationId = conversationIdParam(id);
    const parsed = parseWith(this.turnSchema, body);
    const idempotencyKey = idempotencyKeyOf(request);
    const outcome = await this.conversations.sendTurn({
      tenant,
      conversationId,
      messages: parsed.messages,
      sampling: toSampling(parsed),
      // Only an Idempotency-Key retry is matched against it: not built for other requests.
      fingerprintMaterial:
        idempotencyKey === undefined
          ? ''
          : fingerprintMaterial('conversations.turns', parsed, [conversationId]),
      ...(parsed.user ? { endUser: parsed.user } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    await sendTurn(reply, outcome, {
      stream: parsed.stream === true,
      includeUsage: parsed.stream_options?.include_usage === true,
      bodyLimitBytes: this.settings.bodyLimitBytes,
      log: this.settings.log,
    });
  }
}
