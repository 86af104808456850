import { bearerToken, formatApiKey, parseApiKey } from './api-key.js';

describe('API keys', () => {
  const key = formatApiKey('AbCdEfGh1234', 'x'.repeat(40));

  it('parses the lookup id and the public prefix', () => {
    expect(parseApiKey(key)).toEqual({ lookupId: 'AbCdEfGh1234', prefix: 'sk-spw-AbCdEfGh1234' });
  });

  it.each([['sk-spw-short'], [`sk-xxx-${'a'.repeat(52)}`], [`sk-spw-${'a'.repeat(51)}!`], ['']])(
    'refuses %p',
    (raw) => {
      expect(parseApiKey(raw)).toBeUndefined();
    },
  );

  it('reads only Bearer credentials', () => {
    expect(bearerToken(`Bearer ${key}`)).toBe(key);
    expect(bearerToken(`bearer  ${key}`)).toBe(key);
    expect(bearerToken(`Basic ${key}`)).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
  });
});
