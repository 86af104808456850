import { isDomainError } from '@spillway/errors';
import { type ModelInfo } from '../../domain/chat.js';
import { invalidRequest } from '../errors.js';
import { type ChatPort } from '../ports/chat.port.js';
import { type Clock, type Log } from '../ports/system.port.js';

/**
 * The router's model list, cached for `ttlMs`, and the checks a request must pass against it
 * before it takes quota: the model exists, and prompt plus completion fit its context window.
 */
export class ModelCatalog {
  private cached: { readonly models: readonly ModelInfo[]; readonly atMs: number } | undefined;
  private inFlight: Promise<readonly ModelInfo[]> | undefined;

  constructor(
    private readonly chat: ChatPort,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly options: { readonly ttlMs: number; readonly maxPromptTokens: number },
  ) {}

  async list(): Promise<readonly ModelInfo[]> {
    const now = this.clock.nowMs();
    if (this.cached && now - this.cached.atMs < this.options.ttlMs) return this.cached.models;
    this.inFlight ??= this.chat
      .listModels()
      .then((models) => {
        this.cached = { models, atMs: this.clock.nowMs() };
        return models;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** Throws REQUEST.INVALID naming the field when the request cannot be served as asked. */
  async assertServable(
    model: string,
    promptTokens: number,
    maxTokens: number | undefined,
  ): Promise<void> {
    if (promptTokens > this.options.maxPromptTokens) {
      throw invalidRequest(
        'messages',
        `The messages are about ${promptTokens} tokens, more than the gateway's limit of ${this.options.maxPromptTokens}. Shorten the conversation.`,
        'context_length_exceeded',
      );
    }
    let models: readonly ModelInfo[];
    try {
      models = await this.list();
    } catch (error) {
      // The router will judge the model itself; a catalog outage must not refuse valid requests.
      this.log.warn('gateway: model list unavailable, not checking the model', {
        error: isDomainError(error) || error instanceof Error ? error.message : String(error),
      });
      return;
    }
    const info = models.find((m) => m.id === model);
    if (!info) {
      throw invalidRequest(
        'model',
        `The model '${model}' does not exist. GET /v1/models lists the available ones.`,
        'model_not_found',
      );
    }
    const needed = promptTokens + (maxTokens ?? 0);
    if (info.contextWindowTokens > 0 && needed > info.contextWindowTokens) {
      throw invalidRequest(
        maxTokens !== undefined && promptTokens <= info.contextWindowTokens
          ? 'max_tokens'
          : 'messages',
        `This model's context window is ${info.contextWindowTokens} tokens; the request needs about ${needed} (${promptTokens} in the messages, ${maxTokens ?? 0} for the completion).`,
        'context_length_exceeded',
      );
    }
  }
}
