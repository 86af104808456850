import type { GpuSimServer } from '../src/gpu-sim.app.js';
import { eventually, postJson, startTestServer } from './gpu-sim.fixture.js';

describe('/health and cold start', () => {
  let server: GpuSimServer;

  beforeAll(async () => {
    // The 8B profile loads in 60 simulated seconds: 1.2 wall seconds at time scale 0.02.
    server = await startTestServer({ timeScale: 0.02, modelLoadMs: 60_000 });
  });

  afterAll(async () => {
    await server.shutdown(1000);
  });

  it('is 503 while the model loads (and refuses requests), then 200', async () => {
    const loading = await fetch(`${server.url}/health`);
    expect(loading.status).toBe(503);
    const refused = await postJson(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({
      error: expect.objectContaining({ type: 'service_unavailable', code: 'model_loading' }),
    });

    await eventually(async () => (await fetch(`${server.url}/health`)).status === 200, 20_000);
    const served = await postJson(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
    });
    expect(served.status).toBe(200);
  });
});
