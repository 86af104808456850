import { common, type inference } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import { withSpan } from '@spillway/telemetry';
import { type CallContext, type ServiceImplementation } from 'nice-grpc';

type GenerateRequest = inference.GenerateRequest;
type GenerateResponse = inference.GenerateResponse;

/** Models the fake shard understands; each picks one behaviour of Generate. */
export const MODEL = { ok: 'fake-ok', drainingMidStream: 'fake-draining' } as const;

/**
 * A small slice of a real inference adapter: enough of `Inference` to exercise unary and
 * server-streaming calls, failures and hanging handlers against a real gRPC server.
 */
export class FakeShard {
  /** When set, GetLoad throws it. */
  getLoadFailure: Error | undefined;
  /** Resolves once a hanging Prewarm sees its call cancelled (deadline or client abort). */
  readonly prewarmAborted: Promise<void>;
  private markPrewarmAborted!: () => void;

  constructor(readonly shardId = 'shard-a') {
    this.prewarmAborted = new Promise((resolve) => (this.markPrewarmAborted = resolve));
  }

  readonly implementation: ServiceImplementation<typeof inference.InferenceDefinition> = {
    generate: (request, context) => this.generate(request, context),
    getLoad: async () => {
      if (this.getLoadFailure) throw this.getLoadFailure;
      return { shardId: this.shardId, load: shardLoad(), draining: false, ready: true };
    },
    // Hangs until the call is cancelled: stands in for an engine that stopped answering.
    prewarm: async (_request, context) => {
      await new Promise<void>((resolve) =>
        context.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      this.markPrewarmAborted();
      throw new DomainError('ENGINE.TIMEOUT', 'prewarm was cancelled');
    },
    drain: async () => ({ inFlightStreams: 0 }),
  };

  private async *generate(
    request: GenerateRequest,
    _context: CallContext,
  ): AsyncGenerator<GenerateResponse> {
    yield { event: { $case: 'started', value: { shardId: this.shardId, promptTokens: 3 } } };
    // A span opened after the first chunk: its parent shows whether the handler still runs in the
    // server span once nice-grpc has resumed the stream from its own loop.
    await withSpan('engine.decode', {}, async () => undefined);
    yield { event: { $case: 'delta', value: { text: 'Hello' } } };
    if (request.model === MODEL.drainingMidStream) {
      throw new DomainError(
        'SHARD.DRAINING',
        'shard-a is draining; resume the turn on another shard',
        {
          retryAfterSeconds: 0,
          details: { shardId: this.shardId },
        },
      );
    }
    yield { event: { $case: 'delta', value: { text: ' world' } } };
    yield {
      event: {
        $case: 'completed',
        value: {
          finishReason: common.FinishReason.FINISH_REASON_STOP,
          usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5, cachedPromptTokens: 0 },
        },
      },
    };
  }
}

export function generateRequest(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    requestId: 'req-1',
    conversationId: 'conv-1',
    tenantId: 'tenant-1',
    model: MODEL.ok,
    messages: [{ role: common.Role.ROLE_USER, content: 'Hi', name: '' }],
    sampling: undefined,
    priority: common.Priority.PRIORITY_STANDARD,
    resumeFromText: '',
    ...overrides,
  };
}

function shardLoad(): common.ShardLoad {
  return {
    runningRequests: 1,
    waitingRequests: 0,
    kvCacheUsage: 0.25,
    inFlightStreams: 1,
    maxInFlightStreams: 8,
    ttftMsP50: 120,
    itlMsP50: 18,
    queueTimeMsP50: 0,
    prefixCacheHitRatio: 0.5,
    observedAtMs: 1_700_000_000_000,
    recentPrefixBlocks: [],
  };
}
