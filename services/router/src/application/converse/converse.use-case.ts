import { DomainError, isDomainError } from '@spillway/errors';
import { hash53 } from '../../domain/index.js';
import type { Clock } from '../clock.port.js';
import type {
  ConversationMessage,
  ConversationPort,
  TurnFinishReason,
} from '../conversation.port.js';
import type { IdGenerator } from '../ids.port.js';
import type { LogPort } from '../log.port.js';
import type { MigrateOnDemand } from '../migrate-conversations/migrate-on-demand.js';
import type { PromptEncoder } from '../prompt-encoder.port.js';
import type { RouterMetrics } from '../router-metrics.port.js';
import type { TurnUsagePublisher } from '../turn-usage.port.js';
import type { ConverseCommand, ConverseEvent } from './converse.types.js';
import type { ShadowRun, ShadowTurns } from './shadow-turns.js';
import type { TurnResult, TurnRunner, TurnSpec } from './turn-runner.js';

export interface ConverseDependencies {
  readonly conversations: ConversationPort;
  readonly encoder: PromptEncoder;
  readonly runner: Pick<TurnRunner, 'run'>;
  readonly shadows: Pick<ShadowTurns, 'launch'>;
  readonly usage: TurnUsagePublisher;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly metrics: RouterMetrics;
  readonly log: LogPort;
  /** The router's zone: shards there are preferred. */
  readonly zone?: string | undefined;
  /** Moves a stored conversation off a shard that is gone before its turn is placed. */
  readonly migrations?: Pick<MigrateOnDemand, 'beforeTurn'> | undefined;
}

/** A stored turn to run, or the reply an idempotent retry already has. */
type PreparedTurn =
  | {
      readonly kind: 'run';
      readonly conversationId: string;
      readonly turnId: string;
      readonly model: string;
      readonly messages: readonly ConversationMessage[];
      /** False for a stateless turn: nothing is appended anywhere. */
      readonly stored: boolean;
      readonly pin: boolean;
    }
  | {
      readonly kind: 'replay';
      readonly turnId: string;
      readonly reply: string;
      readonly shardId: string;
      readonly finishReason: TurnFinishReason;
    };

/**
 * ChatService.Converse: one user turn, its reply streamed back. Appends the user message, places the
 * turn and streams it (TurnRunner: affinity, spill, early refusal, failover, resume), appends the
 * assistant message, then reports usage and compares a sampled shadow copy. A stateless turn
 * carries its whole history and is stored nowhere.
 */
export class Converse {
  constructor(private readonly deps: ConverseDependencies) {}

  async *execute(
    command: ConverseCommand,
    signal: AbortSignal,
  ): AsyncGenerator<ConverseEvent, void, undefined> {
    validate(command);
    const { clock, metrics } = this.deps;
    const startedAtMs = clock.nowMs();
    const prepared = await this.prepare(command);
    if (prepared.kind === 'replay') {
      yield* replay(prepared);
      return;
    }
    if (prepared.stored) await this.deps.migrations?.beforeTurn(prepared.conversationId);
    const spec: TurnSpec = {
      tenantId: command.tenantId,
      conversationId: prepared.conversationId,
      turnId: prepared.turnId,
      model: prepared.model,
      messages: prepared.messages,
      sampling: command.sampling,
      priority: command.priority,
      ttftBudgetMs: command.ttftBudgetMs,
      pin: prepared.pin,
      stored: prepared.stored,
      encoded: this.deps.encoder.encode(prepared.messages),
      zone: this.deps.zone,
    };

    let shadow: ShadowRun | undefined;
    let result: TurnResult | undefined;
    let lastShardId = '';
    let outcome: 'completed' | 'failed' | 'cancelled' = 'cancelled';
    try {
      for await (const event of this.deps.runner.run(spec, signal)) {
        switch (event.kind) {
          case 'placed':
            lastShardId = event.placement.decision.shard.id;
            if (shadow === undefined && event.placement.shadowPool !== undefined)
              shadow = this.deps.shadows.launch(spec, event.placement.shadowPool);
            break;
          case 'started':
            yield {
              kind: 'started',
              turnId: spec.turnId,
              shardId: event.shardId,
              reason: event.reason,
            };
            break;
          case 'delta':
            yield { kind: 'delta', text: event.text, index: event.index };
            break;
          case 'finished':
            result = event.result;
            break;
          default: {
            const unknown: never = event;
            throw new Error(`unknown turn event ${JSON.stringify(unknown)}`);
          }
        }
      }
      if (result === undefined) throw new Error('the turn ended without a result');
      if (prepared.stored) {
        await this.deps.conversations.completeAssistantMessage({
          tenantId: command.tenantId,
          conversationId: prepared.conversationId,
          turnId: prepared.turnId,
          content: result.text,
          shardId: result.shardId,
          finishReason: result.finishReason,
          usage: result.usage,
          failovers: result.failovers,
        });
      }
      outcome = 'completed';
      yield {
        kind: 'completed',
        turnId: spec.turnId,
        shardId: result.shardId,
        finishReason: result.finishReason,
        usage: result.usage,
        failovers: result.failovers,
      };
    } catch (error) {
      outcome = signal.aborted || isAbort(error) ? 'cancelled' : 'failed';
      throw error;
    } finally {
      const ttftMs =
        result?.firstTokenAtMs === undefined ? undefined : result.firstTokenAtMs - startedAtMs;
      metrics.turnFinished(outcome, ttftMs);
      shadow?.settle(outcome === 'completed' ? result?.text : undefined);
      if (outcome !== 'completed') {
        // The generator may be closed by a caller that went away: record without awaiting.
        if (prepared.stored)
          void this.recordFailure(
            command.tenantId,
            prepared.conversationId,
            prepared.turnId,
            lastShardId,
            outcome,
          );
      } else if (result !== undefined) {
        this.deps.usage.record({
          turnId: spec.turnId,
          conversationId: spec.conversationId,
          tenantId: spec.tenantId,
          model: spec.model,
          shardId: result.shardId,
          priority: spec.priority,
          usage: result.usage,
          finishReason: result.finishReason,
          ttftMs: ttftMs ?? 0,
          durationMs: clock.nowMs() - startedAtMs,
          failovers: result.failovers,
          spilled: result.spilled,
          completedAtMs: clock.nowMs(),
        });
      }
    }
  }

  private async prepare(command: ConverseCommand): Promise<PreparedTurn> {
    const { conversations, ids } = this.deps;
    const turnId = ids.next();
    if (command.stateless) {
      if (command.model === '') throw invalid('model', 'a stateless turn must name its model');
      const keyed = command.conversationId !== '';
      return {
        kind: 'run',
        conversationId: keyed ? command.conversationId : statelessKey(command),
        turnId,
        model: command.model,
        messages: command.messages,
        stored: false,
        // Without a conversation id there is nothing to pin; prefix overlap still finds the shard.
        pin: keyed,
      };
    }
    let conversationId = command.conversationId;
    if (conversationId === '') {
      if (command.model === '')
        throw invalid('model', 'a turn without conversation_id starts one and must name its model');
      const started = await conversations.start({
        tenantId: command.tenantId,
        conversationId: '',
        model: command.model,
        systemPrompt: '',
        labels: {},
      });
      conversationId = started.conversationId;
    }
    const appended = await conversations.appendUserMessage({
      tenantId: command.tenantId,
      conversationId,
      turnId,
      messages: command.messages,
      idempotencyKey: command.idempotencyKey,
    });
    if (appended.kind === 'already-answered') return { ...appended, kind: 'replay' };
    const context =
      appended.context ?? (await conversations.context(command.tenantId, conversationId));
    return {
      kind: 'run',
      conversationId,
      turnId: appended.turnId,
      model: command.model === '' ? context.model : command.model,
      messages: context.messages,
      stored: true,
      pin: true,
    };
  }

  private async recordFailure(
    tenantId: string,
    conversationId: string,
    turnId: string,
    shardId: string,
    outcome: 'failed' | 'cancelled',
  ): Promise<void> {
    try {
      await this.deps.conversations.failAssistantMessage({
        tenantId,
        conversationId,
        turnId,
        shardId,
        errorCode: outcome === 'cancelled' ? 'CANCELLED' : 'FAILED',
        errorMessage:
          outcome === 'cancelled'
            ? 'the caller went away before the reply ended'
            : 'the turn failed',
      });
    } catch (error) {
      this.deps.log.warn('could not record a failed turn', {
        conversationId,
        turnId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

function validate(command: ConverseCommand): void {
  if (command.tenantId === '') throw invalid('tenant_id', 'tenant_id is required');
  if (command.messages.length === 0) throw invalid('messages', 'a turn needs at least one message');
  if (command.ttftBudgetMs < 0) throw invalid('ttft_budget_ms', 'must not be negative');
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('REQUEST.INVALID', message, { details: { field } });
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError' && !isDomainError(error);
}

/**
 * A stateless client (OpenAI style) resends the whole history each turn, so its opening messages
 * are the same every turn: keyed by them, its turns stay on one shard like a stored conversation's.
 */
function statelessKey(command: ConverseCommand): string {
  const opening = command.messages
    .slice(0, 2)
    .map((message) => `${message.role}\u0000${message.content}`)
    .join('\u0001');
  return `stateless-${command.tenantId}-${hash53(`${command.model}\u0002${opening}`).toString(36)}`;
}

async function* replay(
  turn: Extract<PreparedTurn, { kind: 'replay' }>,
): AsyncGenerator<ConverseEvent, void, undefined> {
  yield { kind: 'started', turnId: turn.turnId, shardId: turn.shardId, reason: 'replay' };
  if (turn.reply.length > 0) yield { kind: 'delta', text: turn.reply, index: 0 };
  yield {
    kind: 'completed',
    turnId: turn.turnId,
    shardId: turn.shardId,
    finishReason: turn.finishReason,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, cachedPromptTokens: 0 },
    failovers: 0,
  };
}
