import type { inference } from '@spillway/contracts';
import type { CallContext, ServiceImplementation } from '@spillway/grpc';
import type { DrainShard } from '../../application/drain-shard/drain-shard.use-case.js';
import type { GenerateTurn } from '../../application/generate-turn/generate-turn.use-case.js';
import type { GetLoad } from '../../application/get-load/get-load.use-case.js';
import type { PrewarmConversation } from '../../application/prewarm-conversation/prewarm-conversation.use-case.js';
import {
  toEngineMessages,
  toGenerateCommand,
  toGenerateResponse,
} from './inference-grpc.mapping.js';

/** The shard's gRPC face: translates the Inference contract to use cases and back. */
export class InferenceGrpcController implements ServiceImplementation<
  typeof inference.InferenceDefinition
> {
  constructor(
    private readonly generateTurn: GenerateTurn,
    private readonly prewarmConversation: PrewarmConversation,
    private readonly drainShard: DrainShard,
    private readonly getShardLoad: GetLoad,
  ) {}

  async *generate(
    request: inference.GenerateRequest,
    context: CallContext,
  ): AsyncGenerator<inference.GenerateResponse> {
    for await (const event of this.generateTurn.execute(
      toGenerateCommand(request),
      context.signal,
    )) {
      yield toGenerateResponse(event);
    }
  }

  async prewarm(
    request: inference.PrewarmRequest,
    context: CallContext,
  ): Promise<inference.PrewarmResponse> {
    return this.prewarmConversation.execute(
      {
        conversationId: request.conversationId,
        model: request.model,
        messages: toEngineMessages(request.messages),
      },
      context.signal,
    );
  }

  async drain(request: inference.DrainRequest): Promise<inference.DrainResponse> {
    return this.drainShard.execute(request.reason);
  }

  async getLoad(): Promise<inference.GetLoadResponse> {
    return this.getShardLoad.execute();
  }
}
