import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { createKafkaMessaging, defineTopic, topics } from '@spillway/messaging';
import { CLOCK_PORT, type ClockPort } from './application/clock.port.js';
import { DrainShard } from './application/drain-shard/drain-shard.use-case.js';
import { ENGINE_PORT, type EnginePort } from './application/engine.port.js';
import { GenerateTurn } from './application/generate-turn/generate-turn.use-case.js';
import { GetLoad } from './application/get-load/get-load.use-case.js';
import { LOAD_PUBLISHER_PORT, type LoadPublisherPort } from './application/load-publisher.port.js';
import { LOG_PORT, type LogPort } from './application/log.port.js';
import { PrewarmConversation } from './application/prewarm-conversation/prewarm-conversation.use-case.js';
import {
  PROMPT_TOKENIZER_PORT,
  type PromptTokenizerPort,
} from './application/prompt-tokenizer.port.js';
import { ReportLoad } from './application/report-load/report-load.use-case.js';
import { SHARD_REGISTRY_PORT } from './application/shard-registry.port.js';
import { SHARD_RUNTIME, ShardRuntime } from './application/shard-runtime.js';
import { SystemClock } from './adapters/clock/system.clock.js';
import { dialectFor } from './adapters/engines/dialects/index.js';
import { OpenAiHttpEngine } from './adapters/engines/openai-http.engine.js';
import { InferenceGrpcController } from './adapters/grpc/inference.grpc.controller.js';
import { KafkaLoadPublisher } from './adapters/kafka/kafka-load.publisher.js';
import { NestLog } from './adapters/nest/nest.log.js';
import { ShardLifecycle } from './adapters/nest/shard.lifecycle.js';
import { REPORT_LOAD, SHUTDOWN_HOOKS, type ShutdownHook } from './adapters/nest/tokens.js';
import { GrpcShardRegistry } from './adapters/registry/grpc-shard-registry.js';
import { SimPromptTokenizer } from './adapters/tokenizer/sim-prompt.tokenizer.js';
import { INFERENCE_ADAPTER_CONFIG, type InferenceAdapterConfig } from './config.js';

/** Composition root: one shard's adapters and use cases, wired from its configuration. */
@Module({})
export class InferenceAdapterModule {
  static forRoot(config: InferenceAdapterConfig): DynamicModule {
    const shutdownHooks: ShutdownHook[] = [];
    const providers: Provider[] = [
      { provide: INFERENCE_ADAPTER_CONFIG, useValue: config },
      { provide: CLOCK_PORT, useClass: SystemClock },
      { provide: LOG_PORT, useFactory: () => new NestLog('inference-adapter') },
      { provide: SHUTDOWN_HOOKS, useValue: shutdownHooks },
      {
        provide: ENGINE_PORT,
        useFactory: () =>
          new OpenAiHttpEngine(dialectFor(config.ENGINE_KIND), config.ENGINE_URL, {
            connectMs: config.ENGINE_CONNECT_TIMEOUT_MS,
            firstTokenMs: config.FIRST_TOKEN_TIMEOUT_MS,
            interTokenMs: config.INTER_TOKEN_TIMEOUT_MS,
            totalMs: config.ENGINE_TIMEOUT_MS,
          }),
      },
      { provide: PROMPT_TOKENIZER_PORT, useClass: SimPromptTokenizer },
      {
        provide: SHARD_RUNTIME,
        inject: [CLOCK_PORT, PROMPT_TOKENIZER_PORT],
        useFactory: (clock: ClockPort, tokenizer: PromptTokenizerPort) =>
          new ShardRuntime(
            {
              shardId: config.SHARD_ID,
              pool: config.POOL,
              model: config.MODEL,
              zone: config.ZONE,
              maxInFlightStreams: config.MAX_IN_FLIGHT_STREAMS,
            },
            clock,
            tokenizer,
          ),
      },
      {
        provide: LOAD_PUBLISHER_PORT,
        useFactory: (): LoadPublisherPort | null => {
          const brokers = config.KAFKA_BROKERS;
          if (!brokers) return null;
          const messaging = createKafkaMessaging({
            brokers,
            clientId: `inference-adapter-${config.SHARD_ID}`,
            source: '/spillway/inference-adapter',
          });
          const topic = defineTopic(config.LOAD_TOPIC, topics.shardLoad.codec);
          // Creating the topic if it is missing is idempotent, so every shard may do it.
          const connect = async () => {
            const admin = await messaging.connectTopicAdmin();
            try {
              await admin.ensureTopics([
                { name: topic.name, partitions: config.LOAD_TOPIC_PARTITIONS },
              ]);
            } finally {
              await admin.close();
            }
            return messaging.connectPublisher();
          };
          const publisher = new KafkaLoadPublisher(connect, topic);
          shutdownHooks.push(() => publisher.close());
          return publisher;
        },
      },
      {
        provide: SHARD_REGISTRY_PORT,
        useFactory: () => {
          if (!config.REGISTRY_ADDRESS) return null;
          const registry = new GrpcShardRegistry(
            config.REGISTRY_ADDRESS,
            config.REGISTRY_DEADLINE_MS,
          );
          shutdownHooks.push(() => registry.close());
          return registry;
        },
      },
      {
        provide: GenerateTurn,
        inject: [SHARD_RUNTIME, ENGINE_PORT, PROMPT_TOKENIZER_PORT],
        useFactory: (runtime: ShardRuntime, engine: EnginePort, tokenizer: PromptTokenizerPort) =>
          new GenerateTurn(runtime, engine, tokenizer),
      },
      {
        provide: PrewarmConversation,
        inject: [SHARD_RUNTIME, ENGINE_PORT, PROMPT_TOKENIZER_PORT, CLOCK_PORT],
        useFactory: (
          runtime: ShardRuntime,
          engine: EnginePort,
          tokenizer: PromptTokenizerPort,
          clock: ClockPort,
        ) => new PrewarmConversation(runtime, engine, tokenizer, clock),
      },
      {
        provide: DrainShard,
        inject: [SHARD_RUNTIME, LOG_PORT],
        useFactory: (runtime: ShardRuntime, log: LogPort) => new DrainShard(runtime, log),
      },
      {
        provide: GetLoad,
        inject: [SHARD_RUNTIME],
        useFactory: (runtime: ShardRuntime) => new GetLoad(runtime),
      },
      {
        provide: REPORT_LOAD,
        inject: [SHARD_RUNTIME, ENGINE_PORT, LOAD_PUBLISHER_PORT, LOG_PORT, CLOCK_PORT],
        useFactory: (
          runtime: ShardRuntime,
          engine: EnginePort,
          publisher: LoadPublisherPort | null,
          log: LogPort,
          clock: ClockPort,
        ) =>
          new ReportLoad(
            runtime,
            engine,
            publisher ?? undefined,
            log,
            clock,
            config.LOAD_REPORT_INTERVAL_MS,
          ),
      },
      {
        provide: InferenceGrpcController,
        inject: [GenerateTurn, PrewarmConversation, DrainShard, GetLoad],
        useFactory: (
          generate: GenerateTurn,
          prewarm: PrewarmConversation,
          drain: DrainShard,
          load: GetLoad,
        ) => new InferenceGrpcController(generate, prewarm, drain, load),
      },
      ShardLifecycle,
    ];
    return { module: InferenceAdapterModule, providers, exports: [ShardLifecycle, SHARD_RUNTIME] };
  }
}
