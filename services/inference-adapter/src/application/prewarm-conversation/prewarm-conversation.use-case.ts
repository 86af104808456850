import { DomainError } from '@spillway/errors';
import { shardErrors } from '../../domain/shard-errors.js';
import { callerCancelled, isCancellation } from '../cancellation.js';
import type { ClockPort } from '../clock.port.js';
import { engineFailureToDomainError } from '../engine-failure-to-domain.js';
import { EngineFailure, type EngineChatMessage, type EnginePort } from '../engine.port.js';
import type { PromptTokenizerPort } from '../prompt-tokenizer.port.js';
import type { ShardRuntime } from '../shard-runtime.js';

export interface PrewarmCommand {
  readonly conversationId: string;
  readonly model: string;
  readonly messages: readonly EngineChatMessage[];
}

export interface PrewarmResult {
  readonly promptTokens: number;
  readonly cachedPromptTokens: number;
}

/**
 * Puts a conversation's context into the engine's prefix cache before its next turn arrives (a
 * migrated conversation, a predicted return): a one-token completion of the context. It takes a
 * stream slot like a turn, so a migration storm cannot push the engine past the shard's bound.
 */
export class PrewarmConversation {
  constructor(
    private readonly runtime: ShardRuntime,
    private readonly engine: EnginePort,
    private readonly tokenizer: PromptTokenizerPort,
    private readonly clock: ClockPort,
  ) {}

  async execute(command: PrewarmCommand, signal: AbortSignal): Promise<PrewarmResult> {
    const shard = this.runtime.identity;
    if (command.messages.length === 0) {
      throw new DomainError('REQUEST.INVALID', 'messages must hold the context to prewarm', {
        details: { field: 'messages' },
      });
    }
    if (command.model && command.model !== shard.model) {
      throw new DomainError(
        'REQUEST.INVALID',
        `shard ${shard.shardId} serves model ${shard.model}, not ${command.model}`,
        {
          details: { field: 'model', shardModel: shard.model },
        },
      );
    }
    if (!this.runtime.engineHealth.ready && !this.runtime.draining) {
      throw shardErrors.unavailable(
        shard.shardId,
        `its engine is not ready: ${this.runtime.engineHealth.detail}`,
      );
    }
    const decision = this.runtime.tryAdmit();
    if (decision.kind === 'refused') {
      throw decision.reason === 'draining'
        ? shardErrors.draining(shard.shardId, decision.retryAfterMs)
        : shardErrors.overloaded(shard.shardId, decision.state.maxInFlight, decision.retryAfterMs);
    }
    try {
      const usage = await this.engine.complete(
        {
          requestId: `prewarm-${command.conversationId}-${this.clock.nowMs()}`,
          model: command.model || shard.model,
          messages: command.messages,
          sampling: { maxTokens: 1, temperature: 0 },
          continueFinalMessage: false,
        },
        signal,
      );
      this.runtime.promptServed(command.messages);
      return {
        promptTokens: usage?.promptTokens ?? this.tokenizer.countPromptTokens(command.messages),
        cachedPromptTokens: usage?.cachedPromptTokens ?? 0,
      };
    } catch (error) {
      if (isCancellation(error, signal)) throw callerCancelled();
      if (error instanceof EngineFailure) throw engineFailureToDomainError(shard.shardId, error);
      throw error;
    } finally {
      this.runtime.release();
    }
  }
}
