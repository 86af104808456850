// What `npm start` runs, in start order: each entry is one child process of scripts/start.mjs.
// Ports are fixed so the printed addresses stay true; SPILLWAY_SHARDS changes the shard count.
const kafka = '127.0.0.1:19092';
// Tests start a second system beside a developer's: other ports, other databases.
const offset = Number(process.env.SPILLWAY_PORT_OFFSET ?? 0);
const databasePrefix = process.env.SPILLWAY_DATABASE_PREFIX ?? 'spillway';
const database = (name) =>
  `postgres://postgres@127.0.0.1:5432/${name.replace(/^spillway/, databasePrefix)}`;
const shardCount = Number(process.env.SPILLWAY_SHARDS ?? 3);
const timeScale = process.env.SPILLWAY_TIME_SCALE ?? '1';

export const ports = {
  gateway: 8080 + offset,
  router: 50051 + offset,
  conversationState: 50053 + offset,
  shardMetadata: 50070 + offset,
  gpuSim: (i) => 8100 + offset + i,
  adapter: (i) => 50061 + offset + i,
};

function shard(i) {
  const id = `shard-${String.fromCharCode(97 + i)}`;
  return [
    {
      name: `gpu-sim-${id}`,
      service: 'gpu-sim',
      cwd: 'services/gpu-sim',
      args: ['dist/main.js'],
      env: {
        GPU_SIM_PORT: String(ports.gpuSim(i)),
        GPU_SIM_TIME_SCALE: timeScale,
        GPU_SIM_MODEL_NAME: 'spillway-8b',
        GPU_SIM_SEED: '0',
        // A short simulated model load keeps `npm start` quick; the profile's own is used elsewhere.
        GPU_SIM_LOAD_TIME_MS: process.env.SPILLWAY_MODEL_LOAD_MS ?? '2000',
      },
      ready: /gpu-sim listening/,
    },
    {
      name: `adapter-${id}`,
      service: 'inference-adapter',
      cwd: 'services/inference-adapter',
      args: ['dist/main.js'],
      env: {
        SHARD_ID: id,
        POOL: 'default',
        MODEL: 'spillway-8b',
        ZONE: i % 2 === 0 ? 'local-a' : 'local-b',
        ENGINE_URL: `http://127.0.0.1:${ports.gpuSim(i)}`,
        ENGINE_KIND: 'vllm',
        GRPC_PORT: String(ports.adapter(i)),
        REGISTRY_ADDRESS: `127.0.0.1:${ports.shardMetadata}`,
        KAFKA_BROKERS: kafka,
      },
      ready: /serving Inference on/,
    },
  ];
}

export const services = [
  {
    name: 'shard-metadata',
    cwd: 'services/shard-metadata',
    args: ['dist/main.js'],
    env: {
      GRPC_PORT: String(ports.shardMetadata),
      DATABASE_URL: database('spillway_shard_metadata'),
      KAFKA_BROKERS: kafka,
    },
    ready: /shard-metadata listening on/,
  },
  {
    name: 'conversation-state',
    cwd: 'services/conversation-state',
    args: ['dist/main.js'],
    env: {
      GRPC_PORT: String(ports.conversationState),
      DATABASE_URL: database('spillway_conversation_state'),
      KAFKA_BROKERS: kafka,
    },
    ready: /conversation-state listening on/,
  },
  ...Array.from({ length: shardCount }, (_, i) => shard(i)).flat(),
  {
    name: 'router',
    cwd: 'services/router',
    args: ['dist/main.js'],
    env: {
      GRPC_PORT: String(ports.router),
      REGISTRY_ADDRESS: `127.0.0.1:${ports.shardMetadata}`,
      CONVERSATION_STORE_ADDRESS: `127.0.0.1:${ports.conversationState}`,
      KAFKA_BROKERS: kafka,
    },
    ready: /router listening on/,
  },
  {
    name: 'gateway',
    cwd: 'services/gateway',
    args: ['dist/main.js'],
    env: {
      GATEWAY_PORT: String(ports.gateway),
      ROUTER_ADDRESS: `127.0.0.1:${ports.router}`,
      DATABASE_URL: database('spillway_gateway'),
      REDIS_URL: 'redis://127.0.0.1:6379',
    },
    ready: /gateway listening on/,
  },
];
