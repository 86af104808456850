import { z } from 'zod';
import { TIERS } from '../../domain/tenant.js';
import {
  createApiKeySchema,
  createTenantSchema,
  updateTenantSchema,
} from './schemas/admin.schema.js';
import { chatCompletionRequestSchema } from './schemas/chat-completion.schema.js';
import { type RequestLimits } from './schemas/common.schema.js';
import {
  createConversationSchema,
  listConversationsQuerySchema,
  sendTurnSchema,
} from './schemas/conversation.schema.js';

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so the
 * document cannot drift from what the gateway accepts. A test checks it covers every route.
 */

type JsonSchema = Record<string, unknown>;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

function requestSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

const usage: JsonSchema = {
  type: 'object',
  required: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
  properties: {
    prompt_tokens: { type: 'integer' },
    completion_tokens: { type: 'integer' },
    total_tokens: { type: 'integer' },
    prompt_tokens_details: { type: 'object', properties: { cached_tokens: { type: 'integer' } } },
  },
};

const RESPONSE_SCHEMAS: Record<string, JsonSchema> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'param', 'code'],
        properties: {
          message: { type: 'string' },
          type: { type: 'string' },
          param: {
            type: ['string', 'null'],
            description: 'The request field (or header) that was wrong',
          },
          code: { type: ['string', 'null'] },
        },
      },
    },
  },
  Usage: usage,
  ChatCompletion: {
    type: 'object',
    required: ['id', 'object', 'created', 'model', 'choices', 'usage'],
    properties: {
      id: { type: 'string' },
      object: { const: 'chat.completion' },
      created: { type: 'integer' },
      model: { type: 'string' },
      conversation_id: { type: 'string' },
      choices: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            index: { type: 'integer' },
            message: {
              type: 'object',
              properties: { role: { const: 'assistant' }, content: { type: 'string' } },
            },
            finish_reason: { type: 'string', enum: ['stop', 'length'] },
          },
        },
      },
      usage: ref('Usage'),
    },
  },
  ChatCompletionChunk: {
    type: 'object',
    description: 'One `data:` event of a streamed reply; the stream ends with `data: [DONE]`.',
    required: ['id', 'object', 'created', 'model', 'choices'],
    properties: {
      id: { type: 'string' },
      object: { const: 'chat.completion.chunk' },
      created: { type: 'integer' },
      model: { type: 'string' },
      choices: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            index: { type: 'integer' },
            delta: {
              type: 'object',
              properties: { role: { type: 'string' }, content: { type: 'string' } },
            },
            finish_reason: { type: ['string', 'null'] },
          },
        },
      },
      usage: { oneOf: [ref('Usage'), { type: 'null' }] },
    },
  },
  Model: {
    type: 'object',
    required: ['id', 'object', 'created', 'owned_by'],
    properties: {
      id: { type: 'string' },
      object: { const: 'model' },
      created: { type: 'integer' },
      owned_by: { type: 'string' },
      context_window: { type: 'integer' },
    },
  },
  ModelList: {
    type: 'object',
    properties: { object: { const: 'list' }, data: { type: 'array', items: ref('Model') } },
  },
  Conversation: {
    type: 'object',
    required: ['id', 'object', 'model', 'created_at', 'closed'],
    properties: {
      id: { type: 'string' },
      object: { const: 'conversation' },
      model: { type: 'string' },
      system_prompt: { type: 'string' },
      created_at: { type: 'integer' },
      closed: { type: 'boolean' },
      version: { type: 'integer' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      message_count: { type: 'integer' },
      messages: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            role: { type: 'string' },
            content: { type: 'string' },
            name: { type: 'string' },
          },
        },
      },
    },
  },
  ConversationList: {
    type: 'object',
    properties: {
      object: { const: 'list' },
      data: { type: 'array', items: ref('Conversation') },
      has_more: { type: 'boolean' },
      next_page_token: { type: ['string', 'null'] },
    },
  },
  Tenant: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      object: { const: 'tenant' },
      name: { type: 'string' },
      tier: { type: 'string', enum: [...TIERS] },
      requests_per_minute: { type: 'integer' },
      tokens_per_minute: { type: 'integer' },
      created_at: { type: 'integer' },
    },
  },
  ApiKey: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      object: { const: 'api_key' },
      tenant_id: { type: 'string' },
      prefix: { type: 'string' },
      name: { type: 'string' },
      created_at: { type: 'integer' },
      revoked_at: { type: ['integer', 'null'] },
      api_key: { type: 'string', description: 'Only in the response that created the key' },
    },
  },
};

const rateLimitHeaders = Object.fromEntries(
  ['requests', 'tokens'].flatMap((bucket) => [
    [`x-ratelimit-limit-${bucket}`, { schema: { type: 'integer' } }],
    [`x-ratelimit-remaining-${bucket}`, { schema: { type: 'integer' } }],
    [`x-ratelimit-reset-${bucket}`, { schema: { type: 'string' }, description: 'e.g. 1s, 6m0s' }],
  ]),
);

const errorResponse = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: ref('Error') } },
});

const ERRORS = {
  '400': errorResponse('Invalid request; `error.param` names the field'),
  '401': errorResponse('Missing, unknown or revoked API key'),
  '404': errorResponse(
    "Unknown conversation, model or route (another tenant's conversations are not found)",
  ),
  '409': errorResponse(
    'Conflict: closed conversation, or the same Idempotency-Key still in progress',
  ),
  '413': errorResponse('Body larger than the limit'),
  '415': errorResponse('Body is not application/json'),
  '429': errorResponse('Over quota, or shed under load (lower tiers first)', {
    'retry-after': {
      schema: { type: 'integer' },
      description: 'Seconds until a retry can succeed',
    },
    ...rateLimitHeaders,
  }),
};

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const apiKey = [{ apiKey: [] }];
const adminToken = [{ adminToken: [] }];
const pathId = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});

export function buildOpenApiDocument(limits: RequestLimits): Record<string, unknown> {
  const turnResponses = {
    '200': {
      description:
        'The reply: one chat.completion, or (with `stream: true`) server-sent chat.completion.chunk events ending in `[DONE]`',
      headers: {
        ...rateLimitHeaders,
        'x-spillway-cache': { schema: { type: 'string', enum: ['hit', 'miss', 'bypass'] } },
        'x-spillway-idempotent-replay': { schema: { type: 'string' } },
      },
      content: {
        ...json(ref('ChatCompletion')),
        'text/event-stream': { schema: ref('ChatCompletionChunk') },
      },
    },
    ...ERRORS,
  };
  const turnHeaders = [
    {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      schema: { type: 'string', maxLength: 255 },
      description: 'A retry with the same key gets the original response',
    },
  ];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Spillway gateway',
      version: '1.0.0',
      description:
        'OpenAI-compatible chat completions plus Spillway conversations, with per-tenant quotas and priority tiers.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key, sk-spw-…' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'GATEWAY_ADMIN_TOKEN' },
      },
      schemas: {
        ...RESPONSE_SCHEMAS,
        ChatCompletionRequest: requestSchema(chatCompletionRequestSchema(limits)),
        CreateConversationRequest: requestSchema(createConversationSchema(limits)),
        SendTurnRequest: requestSchema(sendTurnSchema(limits)),
        CreateTenantRequest: requestSchema(createTenantSchema),
        UpdateTenantRequest: requestSchema(updateTenantSchema),
        CreateApiKeyRequest: requestSchema(createApiKeySchema),
      },
    },
    paths: {
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness',
          responses: { '200': { description: 'Serving' } },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'Prometheus text format' } },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1' } },
        },
      },
      '/v1/chat/completions': {
        post: {
          operationId: 'createChatCompletion',
          summary: 'OpenAI-compatible chat completion (stateless; send the whole history)',
          security: apiKey,
          parameters: [
            ...turnHeaders,
            {
              name: 'x-spillway-conversation-id',
              in: 'header',
              required: false,
              schema: { type: 'string' },
              description: 'Affinity key: turns with the same id go to the same shard',
            },
            {
              name: 'x-spillway-cache',
              in: 'header',
              required: false,
              schema: { type: 'string', enum: ['use', 'bypass'] },
            },
            {
              name: 'Cache-Control',
              in: 'header',
              required: false,
              schema: { type: 'string' },
              description: '`no-cache` bypasses the response cache',
            },
          ],
          requestBody: { required: true, content: json(ref('ChatCompletionRequest')) },
          responses: turnResponses,
        },
      },
      '/v1/models': {
        get: {
          operationId: 'listModels',
          summary: 'Models the fleet serves',
          security: apiKey,
          responses: {
            '200': { description: 'Models', content: json(ref('ModelList')) },
            ...ERRORS,
          },
        },
      },
      '/v1/models/{model}': {
        get: {
          operationId: 'retrieveModel',
          security: apiKey,
          parameters: [pathId('model', 'Model id')],
          responses: {
            '200': { description: 'The model', content: json(ref('Model')) },
            ...ERRORS,
          },
        },
      },
      '/v1/conversations': {
        post: {
          operationId: 'createConversation',
          security: apiKey,
          requestBody: { required: true, content: json(ref('CreateConversationRequest')) },
          responses: {
            '201': { description: 'Created', content: json(ref('Conversation')) },
            ...ERRORS,
          },
        },
        get: {
          operationId: 'listConversations',
          security: apiKey,
          parameters: Object.entries(
            (requestSchema(listConversationsQuerySchema).properties ?? {}) as Record<
              string,
              JsonSchema
            >,
          ).map(([name, schema]) => ({
            name,
            in: 'query',
            required: false,
            schema,
          })),
          responses: {
            '200': {
              description: "A page of the tenant's conversations",
              content: json(ref('ConversationList')),
            },
            ...ERRORS,
          },
        },
      },
      '/v1/conversations/{id}': {
        get: {
          operationId: 'getConversation',
          security: apiKey,
          parameters: [pathId('id', 'Conversation id')],
          responses: {
            '200': {
              description: 'The conversation with its messages',
              content: json(ref('Conversation')),
            },
            ...ERRORS,
          },
        },
      },
      '/v1/conversations/{id}/turns': {
        post: {
          operationId: 'sendTurn',
          summary: 'Send one user turn; the reply streams like a chat completion',
          security: apiKey,
          parameters: [pathId('id', 'Conversation id'), ...turnHeaders],
          requestBody: { required: true, content: json(ref('SendTurnRequest')) },
          responses: turnResponses,
        },
      },
      '/v1/conversations/{id}/close': {
        post: {
          operationId: 'closeConversation',
          security: apiKey,
          parameters: [pathId('id', 'Conversation id')],
          responses: {
            '200': { description: 'The closed conversation', content: json(ref('Conversation')) },
            ...ERRORS,
          },
        },
      },
      '/admin/v1/tenants': {
        post: {
          operationId: 'createTenant',
          security: adminToken,
          requestBody: { required: true, content: json(ref('CreateTenantRequest')) },
          responses: { '201': { description: 'Created', content: json(ref('Tenant')) }, ...ERRORS },
        },
        get: {
          operationId: 'listTenants',
          security: adminToken,
          responses: { '200': { description: 'Tenants' }, ...ERRORS },
        },
      },
      '/admin/v1/tenants/{tenant}': {
        patch: {
          operationId: 'updateTenant',
          security: adminToken,
          parameters: [pathId('tenant', 'Tenant id or name')],
          requestBody: { required: true, content: json(ref('UpdateTenantRequest')) },
          responses: { '200': { description: 'Updated', content: json(ref('Tenant')) }, ...ERRORS },
        },
      },
      '/admin/v1/tenants/{tenant}/keys': {
        post: {
          operationId: 'createApiKey',
          summary: 'Create a key; the response is the only place the whole key appears',
          security: adminToken,
          parameters: [pathId('tenant', 'Tenant id or name')],
          requestBody: { required: false, content: json(ref('CreateApiKeyRequest')) },
          responses: { '201': { description: 'Created', content: json(ref('ApiKey')) }, ...ERRORS },
        },
        get: {
          operationId: 'listApiKeys',
          security: adminToken,
          parameters: [pathId('tenant', 'Tenant id or name')],
          responses: { '200': { description: 'Keys (prefixes only)' }, ...ERRORS },
        },
      },
      '/admin/v1/keys/{key}/revoke': {
        post: {
          operationId: 'revokeApiKey',
          security: adminToken,
          parameters: [pathId('key', 'Key id or prefix')],
          responses: { '200': { description: 'Revoked', content: json(ref('ApiKey')) }, ...ERRORS },
        },
      },
    },
  };
}
