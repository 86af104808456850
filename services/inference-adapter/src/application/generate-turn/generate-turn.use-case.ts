import { DomainError } from '@spillway/errors';
import type { TurnFinishReason } from '../../domain/finish-reason.js';
import { shardErrors } from '../../domain/shard-errors.js';
import { turnPrompt } from '../../domain/turn-prompt.js';
import { callerCancelled, isCancellation } from '../cancellation.js';
import { engineFailureToDomainError } from '../engine-failure-to-domain.js';
import {
  EngineFailure,
  type EngineChatMessage,
  type EnginePort,
  type EngineSampling,
  type EngineStream,
} from '../engine.port.js';
import type { PromptTokenizerPort } from '../prompt-tokenizer.port.js';
import type { ShardRuntime } from '../shard-runtime.js';

export interface GenerateCommand {
  readonly requestId: string;
  readonly conversationId: string;
  readonly tenantId: string;
  /** Empty: the shard's model. */
  readonly model: string;
  readonly messages: readonly EngineChatMessage[];
  readonly sampling: EngineSampling;
  /** Text another shard already streamed for this turn; empty for a fresh turn. */
  readonly resumeFromText: string;
}

export interface TurnUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cachedPromptTokens: number;
}

export type TurnEvent =
  | { readonly kind: 'started'; readonly shardId: string; readonly promptTokens: number }
  | { readonly kind: 'delta'; readonly text: string }
  | {
      readonly kind: 'completed';
      readonly finishReason: TurnFinishReason;
      readonly usage: TurnUsage;
    };

/**
 * Streams one turn from the engine: admit it against the shard's stream bound, open the engine
 * stream, relay its text, report usage and finish reason. Every failure leaves as a DomainError
 * that names the shard; the caller going away aborts the engine request.
 */
export class GenerateTurn {
  constructor(
    private readonly runtime: ShardRuntime,
    private readonly engine: EnginePort,
    private readonly tokenizer: PromptTokenizerPort,
  ) {}

  async *execute(command: GenerateCommand, signal: AbortSignal): AsyncGenerator<TurnEvent> {
    const shardId = this.runtime.shardId;
    this.validate(command);
    this.refuseUnlessServing();
    const decision = this.runtime.tryAdmit();
    if (decision.kind === 'refused') {
      throw decision.reason === 'draining'
        ? shardErrors.draining(shardId, decision.retryAfterMs)
        : shardErrors.overloaded(shardId, decision.state.maxInFlight, decision.retryAfterMs);
    }
    try {
      const prompt = turnPrompt(command.messages, command.resumeFromText);
      let events: EngineStream;
      try {
        events = await this.engine.openChatStream(
          {
            requestId: command.requestId,
            model: command.model || this.runtime.identity.model,
            messages: prompt.messages,
            sampling: command.sampling,
            continueFinalMessage: prompt.continueFinalMessage,
          },
          signal,
        );
      } catch (error) {
        throw this.failure(error, signal);
      }
      let tokens = 0;
      try {
        const promptTokens = this.tokenizer.countPromptTokens(prompt.messages);
        yield { kind: 'started', shardId, promptTokens };
        for await (const event of events) {
          if (event.kind === 'delta') {
            tokens += event.tokens;
            yield { kind: 'delta', text: event.text };
          } else {
            const usage = event.usage;
            const prompt = usage?.promptTokens ?? promptTokens;
            // Without engine usage, one stream event per token is the engines' own convention.
            const completion = usage?.completionTokens ?? tokens;
            yield {
              kind: 'completed',
              finishReason: event.finishReason,
              usage: {
                promptTokens: prompt,
                completionTokens: completion,
                totalTokens: prompt + completion,
                cachedPromptTokens: usage?.cachedPromptTokens ?? 0,
              },
            };
          }
        }
      } catch (error) {
        throw this.failure(error, signal);
      } finally {
        // Ends the engine request if we stopped early (the caller went away right after Started).
        events.cancel();
      }
      this.runtime.promptServed(prompt.messages);
    } finally {
      this.runtime.release();
    }
  }

  private validate(command: GenerateCommand): void {
    const shard = this.runtime.identity;
    if (command.messages.length === 0) {
      throw new DomainError('REQUEST.INVALID', 'messages must hold at least one message', {
        details: { field: 'messages' },
      });
    }
    if (command.model && command.model !== shard.model) {
      throw new DomainError(
        'REQUEST.INVALID',
        `shard ${shard.shardId} serves model ${shard.model}, not ${command.model}; route the turn to a shard of that model`,
        { details: { field: 'model', shardModel: shard.model } },
      );
    }
  }

  private refuseUnlessServing(): void {
    const health = this.runtime.engineHealth;
    // A draining shard says so (admission does), even when its engine is also down.
    if (!health.ready && !this.runtime.draining) {
      throw shardErrors.unavailable(
        this.runtime.shardId,
        `its engine is not ready: ${health.detail}`,
      );
    }
  }

  private failure(error: unknown, signal: AbortSignal): Error {
    if (isCancellation(error, signal)) return callerCancelled();
    if (error instanceof EngineFailure) {
      // The next turn should be refused at once rather than wait on a dead engine; the monitor
      // marks the engine ready again when it answers.
      if (error.kind === 'unreachable')
        this.runtime.setEngineHealth({ ready: false, detail: error.message });
      return engineFailureToDomainError(this.runtime.shardId, error);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}
