import { cacheKeyMaterial, isCacheable } from './response-cache.js';
import { estimatePromptTokens, tokenReservation } from './token-estimate.js';

describe('token estimate and cache policy', () => {
  it('estimates about four characters per token plus framing', () => {
    expect(estimatePromptTokens([{ role: 'user', content: 'hi' }])).toBe(3 + 4 + 1);
    expect(estimatePromptTokens([{ role: 'user', content: 'x'.repeat(400) }], 'sys')).toBe(
      3 + 4 + 1 + 4 + 100,
    );
    expect(tokenReservation(100, undefined, 512)).toBe(612);
    expect(tokenReservation(100, 20, 512)).toBe(120);
  });

  it('caches only temperature 0, keyed on everything that changes the reply', () => {
    expect(isCacheable({ temperature: 0 })).toBe(true);
    expect(isCacheable({})).toBe(false);
    expect(isCacheable({ temperature: 0.1 })).toBe(false);
    const messages = [{ role: 'user' as const, content: 'q' }];
    const base = cacheKeyMaterial('m', messages, { temperature: 0 });
    expect(cacheKeyMaterial('m', messages, { temperature: 0 })).toBe(base);
    expect(cacheKeyMaterial('m', messages, { temperature: 0, maxTokens: 5 })).not.toBe(base);
    expect(cacheKeyMaterial('m2', messages, { temperature: 0 })).not.toBe(base);
    expect(cacheKeyMaterial('m', [{ role: 'system', content: 'q' }], { temperature: 0 })).not.toBe(
      base,
    );
  });
});
