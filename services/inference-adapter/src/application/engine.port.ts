import type { TurnFinishReason } from '../domain/finish-reason.js';
import type { EngineLoadSample } from '../domain/load-snapshot.js';

export const ENGINE_PORT = Symbol('EnginePort');

export const ENGINE_KINDS = ['vllm', 'tgi', 'sglang', 'llamacpp', 'ollama'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

export interface EngineChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
  readonly name?: string;
}

export interface EngineSampling {
  readonly temperature?: number;
  readonly topP?: number;
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
  readonly seed?: number;
  readonly presencePenalty?: number;
  readonly frequencyPenalty?: number;
}

export interface EngineChatRequest {
  readonly requestId: string;
  readonly model: string;
  readonly messages: readonly EngineChatMessage[];
  readonly sampling: EngineSampling;
  /** The last message is a partial assistant reply the engine must continue, not answer. */
  readonly continueFinalMessage: boolean;
}

export interface EngineUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedPromptTokens: number;
}

export type EngineStreamEvent =
  /** Text of one or more tokens (events that arrived together are forwarded together). */
  | { readonly kind: 'delta'; readonly text: string; readonly tokens: number }
  | {
      readonly kind: 'finished';
      readonly finishReason: TurnFinishReason;
      readonly usage: EngineUsage | undefined;
    };

/** A started reply. `cancel` stops the engine request if it is still running; it is idempotent. */
export interface EngineStream extends AsyncIterable<EngineStreamEvent> {
  cancel(): void;
}

export interface EngineHealth {
  readonly ready: boolean;
  /** Why not, when not ready: "HTTP 503 from /health", "connect ECONNREFUSED 127.0.0.1:8000". */
  readonly detail: string;
}

/**
 * What went wrong talking to the engine, before it is given a shard's name and a status.
 * - `unreachable`: no connection could be made.
 * - `disconnected`: the connection broke, or the stream ended without its terminator.
 * - `engine-error`: the engine reported an error inside an accepted stream.
 * - `rejected`: the engine answered the request with an HTTP error (`status`).
 * - `cancelled`: our caller went away and the request was aborted on purpose.
 */
export type EngineFailureKind =
  | 'unreachable'
  | 'disconnected'
  | 'timeout'
  | 'bad-response'
  | 'engine-error'
  | 'rejected'
  | 'cancelled';

export class EngineFailure extends Error {
  constructor(
    readonly kind: EngineFailureKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineFailure';
  }
}

/** One inference engine behind an OpenAI-compatible HTTP API. */
export interface EnginePort {
  readonly kind: EngineKind;
  readonly baseUrl: string;
  /**
   * Starts a streaming chat completion. Resolves once the engine has accepted the request, with
   * the events of the reply; the stream ends after exactly one `finished` event. Aborting `signal`
   * or calling `cancel` stops the engine request. Throws EngineFailure.
   */
  openChatStream(request: EngineChatRequest, signal: AbortSignal): Promise<EngineStream>;
  /** A non-streaming completion, used to prefill (prewarm) a prompt. Throws EngineFailure. */
  complete(request: EngineChatRequest, signal: AbortSignal): Promise<EngineUsage | undefined>;
  probeHealth(signal: AbortSignal): Promise<EngineHealth>;
  /** Undefined when the engine has no metrics endpoint. Throws EngineFailure. */
  scrapeLoad(signal: AbortSignal): Promise<EngineLoadSample | undefined>;
}
