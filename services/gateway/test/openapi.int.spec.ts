import { routesOf } from '../src/gateway.app.js';
import { GatewayWorld, type TestGateway } from './support/gateway-world.js';

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<
    string,
    Record<
      string,
      { operationId: string; responses: Record<string, unknown>; requestBody?: unknown }
    >
  >;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

describe('GET /openapi.json', () => {
  let world: GatewayWorld;
  let gateway: TestGateway;
  let text: string;
  let document: OpenApiDocument;

  beforeAll(async () => {
    world = await GatewayWorld.create();
    gateway = await world.startGateway();
    const response = await fetch(`${gateway.baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    text = await response.text();
    document = JSON.parse(text) as OpenApiDocument;
  });

  afterAll(async () => {
    await world.cleanup();
  });

  it('is an OpenAPI 3.1 document with the required top-level fields', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    for (const [path, item] of Object.entries(document.paths)) {
      expect(path.startsWith('/')).toBe(true);
      for (const [method, operation] of Object.entries(item)) {
        expect(HTTP_METHODS).toContain(method);
        expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
      }
    }
  });

  it('documents every route the gateway serves, and nothing it does not', () => {
    const served = routesOf(gateway.app)
      .map((route) => `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    const documented = Object.entries(document.paths)
      .flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    expect(documented).toEqual(served);
    expect(served).toEqual(
      expect.arrayContaining([
        'POST /v1/chat/completions',
        'GET /v1/models',
        'POST /v1/conversations/{id}/turns',
      ]),
    );
  });

  it('resolves every $ref and uses each operationId once', () => {
    const refs = [...text.matchAll(/"\$ref":"#\/components\/(schemas|securitySchemes)\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const [, kind, name] of refs)
      expect(document.components[kind as 'schemas'][name!]).toBeDefined();
    const ids = Object.values(document.paths).flatMap((item) =>
      Object.values(item).map((operation) => operation.operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes the chat completion request from the same schema that validates it', () => {
    const request = document.components.schemas.ChatCompletionRequest as {
      type: string;
      required: string[];
      properties: Record<string, { maximum?: number; minimum?: number }>;
      additionalProperties: boolean;
    };
    expect(request.type).toBe('object');
    expect(request.required).toEqual(expect.arrayContaining(['model', 'messages']));
    expect(request.additionalProperties).toBe(false);
    expect(request.properties.temperature).toBeDefined();
    expect(JSON.stringify(request.properties.temperature)).toContain('"maximum":2');
  });
});
