import { type ChatMessage, type SamplingParams } from '../../domain/chat.js';
import { type Tenant } from '../../domain/tenant.js';
import { estimatePromptTokens } from '../../domain/token-estimate.js';
import { type ModelCatalog } from '../list-models/model-catalog.js';
import { type TurnOutcome, type TurnRunner } from '../run-turn/turn-runner.js';

export interface CompleteChatCommand {
  readonly tenant: Tenant;
  readonly model: string;
  /** The whole history, as OpenAI clients send it. */
  readonly messages: readonly ChatMessage[];
  readonly sampling: SamplingParams;
  readonly endUser?: string;
  /** Affinity key from `x-spillway-conversation-id`: same shard, same KV prefix; nothing is stored. */
  readonly conversationId?: string;
  readonly idempotencyKey?: string;
  readonly cache: 'use' | 'bypass';
  readonly fingerprintMaterial: string;
}

/** `POST /v1/chat/completions`: a stateless turn. */
export class CompleteChat {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly runner: TurnRunner,
  ) {}

  async execute(command: CompleteChatCommand): Promise<TurnOutcome> {
    await this.catalog.assertServable(
      command.model,
      estimatePromptTokens(command.messages),
      command.sampling.maxTokens,
    );
    return this.runner.start({
      tenant: command.tenant,
      model: command.model,
      messages: command.messages,
      sampling: command.sampling,
      stateless: true,
      cache: command.cache,
      fingerprintMaterial: command.fingerprintMaterial,
      ...(command.conversationId !== undefined ? { conversationId: command.conversationId } : {}),
      ...(command.endUser !== undefined ? { endUser: command.endUser } : {}),
      ...(command.idempotencyKey !== undefined ? { idempotencyKey: command.idempotencyKey } : {}),
    });
  }
}
