import { Body, Controller, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CompleteChat } from '../../application/complete-chat/complete-chat.use-case.js';
import { type Tenant } from '../../domain/tenant.js';
import { ApiKeyGuard, AuthenticatedTenant } from './api-key.guard.js';
import { HTTP_SETTINGS, type HttpSettings } from './http-settings.js';
import {
  affinityConversationIdOf,
  cacheModeOf,
  fingerprintMaterial,
  idempotencyKeyOf,
  toSampling,
} from './request-headers.js';
import { parseCommonChatCompletion } from './schemas/chat-completion.fast-path.js';
import { chatCompletionRequestSchema } from './schemas/chat-completion.schema.js';
import { parseWith } from './schemas/parse.js';
import { sendTurn } from './turn-response.js';

@Controller('v1/chat')
@UseGuards(ApiKeyGuard)
export class ChatCompletionsHttpController {
  private readonly schema: ReturnType<typeof chatCompletionRequestSchema>;

  constructor(
    @Inject(CompleteChat) private readonly completeChat: CompleteChat,
    @Inject(HTTP_SETTINGS) private readonly settings: HttpSettings,
  ) {
    this.schema = chatCompletionRequestSchema(settings.limits);
  }

  @Post('completions')
  async create(
    @AuthenticatedTenant() tenant: Tenant,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const parsed =
      parseCommonChatCompletion(body, this.settings.limits) ?? parseWith(this.schema, body);
    const conversationId = affinityConversationIdOf(request);
    const idempotencyKey = idempotencyKeyOf(request);
    const outcome = await this.completeChat.execute({
      tenant,
      model: parsed.model,
      messages: parsed.messages,
      sampling: toSampling(parsed),
      cache: cacheModeOf(request),
      // Only an Idempotency-Key retry is matched against it: not built for other requests.
      fingerprintMaterial:
        idempotencyKey === undefined
          ? ''
          : fingerprintMaterial('chat.completions', parsed, [conversationId]),
      ...(parsed.user ? { endUser: parsed.user } : {}),
      ...(conversationId !== undefined ? { conversationId } : {}),
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
