import { loadInferenceAdapterConfig } from '../../config.js';
import { describeEngineAddress, parseEngineAddress } from './engine-address.js';

describe('engine address (ENGINE_URL)', () => {
  it('reads an http(s) base URL without its trailing slash', () => {
    expect(parseEngineAddress('http://127.0.0.1:8000/')).toEqual({
      transport: 'tcp',
      baseUrl: 'http://127.0.0.1:8000',
    });
    expect(parseEngineAddress('https://engine.internal')).toEqual({
      transport: 'tcp',
      baseUrl: 'https://engine.internal',
    });
  });

  it('reads a Unix domain socket as unix:/path or unix:///path', () => {
    for (const value of ['unix:/run/vllm.sock', 'unix:///run/vllm.sock']) {
      const address = parseEngineAddress(value);
      expect(address).toEqual({ transport: 'unix', socketPath: '/run/vllm.sock' });
      expect(describeEngineAddress(address)).toBe('unix:/run/vllm.sock');
    }
  });

  it('refuses a relative socket path, one too long for a socket, and other schemes', () => {
    expect(() => parseEngineAddress('unix:vllm.sock')).toThrow(/absolute socket path/);
    // unix://run/… names a host "run", not the path /run/…
    expect(() => parseEngineAddress('unix://run/vllm.sock')).toThrow(/absolute socket path/);
    expect(() => parseEngineAddress(`unix:/tmp/${'x'.repeat(110)}.sock`)).toThrow(/at most 107/);
    expect(() => parseEngineAddress('ftp://127.0.0.1:8000')).toThrow(/http, https or unix/);
    expect(() => parseEngineAddress('127.0.0.1:8000')).toThrow(/base URL/);
    expect(() => parseEngineAddress('not a url')).toThrow(/base URL/);
  });

  it('stops start-up with a message naming ENGINE_URL', () => {
    expect(() =>
      loadInferenceAdapterConfig({ SHARD_ID: 's', MODEL: 'm', ENGINE_URL: 'unix:engine.sock' }),
    ).toThrow(/ENGINE_URL has value "unix:engine.sock": expected an absolute socket path/);
    expect(
      loadInferenceAdapterConfig({ SHARD_ID: 's', MODEL: 'm', ENGINE_URL: 'unix:/run/vllm.sock' })
        .ENGINE_URL,
    ).toBe('unix:/run/vllm.sock');
  });
});
