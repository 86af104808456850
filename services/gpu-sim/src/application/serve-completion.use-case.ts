import type { ChatTurn } from '../domain/chat-template.js';
import { BEGIN_OF_TEXT_ID } from '../domain/chat-template.js';
import type { Engine } from '../domain/engine.js';
import { planChatReply, planCompletionReply, type PlannedReply } from '../domain/reply-text.js';
import { tokenize } from '../domain/tokenizer.js';
import type { FaultState } from './faults.js';
import type { Generation, GenerationListener, GenerationService } from './generation.service.js';
import type { Readiness } from './readiness.js';

/** Why a request is not served; the HTTP adapter maps each kind to a status. */
export type ServeRefusal =
  | { readonly kind: 'invalid'; readonly param: string | null; readonly message: string }
  | { readonly kind: 'loading'; readonly message: string }
  | { readonly kind: 'draining'; readonly message: string }
  | { readonly kind: 'injected-error'; readonly status: 500 | 503; readonly message: string };

export type Prepared =
  | { readonly ok: true; readonly plan: PlannedReply }
  | { readonly ok: false; readonly refusal: ServeRefusal };

export interface ChatInput {
  readonly messages: readonly ChatTurn[];
  readonly maxTokens: number | undefined;
  readonly seed: number | undefined;
  readonly stop: readonly string[];
  readonly ignoreEos: boolean;
}

export interface CompletionInput {
  readonly prompt: string | readonly number[];
  readonly maxTokens: number | undefined;
  readonly seed: number | undefined;
  readonly stop: readonly string[];
  readonly ignoreEos: boolean;
}

export interface ServingSettings {
  readonly modelName: string;
  readonly defaultSeed: number;
}

/**
 * Serving one OpenAI-style request: refuse it (not loaded, draining, injected error, too long),
 * or plan its deterministic reply and run it through the engine.
 */
export class ServeCompletionUseCase {
  constructor(
    private readonly settings: ServingSettings,
    private readonly engine: Engine,
    private readonly generations: GenerationService,
    private readonly readiness: Readiness,
    private readonly faults: FaultState,
  ) {}

  get modelName(): string {
    return this.settings.modelName;
  }

  prepareChat(input: ChatInput): Prepared {
    const refusal = this.availability();
    if (refusal) return { ok: false, refusal };
    const plan = planChatReply({
      seed: input.seed ?? this.settings.defaultSeed,
      messages: input.messages,
      maxTokens: input.maxTokens,
      stop: input.stop,
      ignoreEos: input.ignoreEos,
    });
    return this.withinLimits(plan, input.maxTokens, 'messages');
  }

  prepareCompletion(input: CompletionInput): Prepared {
    const refusal = this.availability();
    if (refusal) return { ok: false, refusal };
    const promptTokenIds =
      typeof input.prompt === 'string'
        ? tokenize(input.prompt, [BEGIN_OF_TEXT_ID])
        : [...input.prompt];
    const plan = planCompletionReply({
      seed: input.seed ?? this.settings.defaultSeed,
      promptTokenIds,
      maxTokens: input.maxTokens,
      stop: input.stop,
      ignoreEos: input.ignoreEos,
    });
    return this.withinLimits(plan, input.maxTokens, 'prompt');
  }

  start(id: string, plan: PlannedReply, listener: GenerationListener): Generation {
    return this.generations.start(id, plan, listener);
  }

  private availability(): ServeRefusal | undefined {
    const fault = this.faults.fault;
    if (fault.mode === 'error') {
      return {
        kind: 'injected-error',
        status: fault.status,
        message: 'Simulated engine failure (fault injection).',
      };
    }
    if (!this.readiness.loaded) {
      const seconds = (this.readiness.loadRemainingWallMs / 1000).toFixed(1);
      return { kind: 'loading', message: `The model is still loading; retry in ${seconds} s.` };
    }
    if (this.readiness.isDraining)
      return { kind: 'draining', message: 'The server is shutting down.' };
    return undefined;
  }

  private withinLimits(plan: PlannedReply, maxTokens: number | undefined, param: string): Prepared {
    const limit = this.engine.maxSequenceTokens;
    const promptTokens = plan.promptTokenIds.length;
    const requested = promptTokens + (maxTokens ?? Math.max(1, plan.tokens.length));
    if (requested > limit) {
      const named = maxTokens !== undefined && promptTokens < limit ? 'max_tokens' : param;
      const where = param === 'messages' ? 'messages' : 'prompt';
      return {
        ok: false,
        refusal: {
          kind: 'invalid',
          param: named,
          message:
            `This model's maximum context length is ${limit} tokens. However, you requested ${requested} tokens ` +
            `(${promptTokens} in the ${where}, ${requested - promptTokens} in the completion). ` +
            `Please reduce the length of the ${where}${named === 'max_tokens' ? " or 'max_tokens'" : ''}.`,
        },
      };
    }
    return { ok: true, plan };
  }
}
