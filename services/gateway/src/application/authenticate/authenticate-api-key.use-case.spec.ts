import { createHash } from 'node:crypto';
import { formatApiKey } from '../../domain/api-key.js';
import { sha256Hex } from './authenticate-api-key.use-case.js';

describe('sha256Hex', () => {
  it('is the SHA-256 of the key as stored before it used one-shot hashing', () => {
    // Keys created by earlier versions were stored as createHash('sha256').update(key, 'utf8').
    const key = formatApiKey('AbCdEfGh1234', 'x'.repeat(40));
    expect(sha256Hex(key)).toBe(createHash('sha256').update(key, 'utf8').digest('hex'));
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('hashes non-ASCII input as UTF-8', () => {
    expect(sha256Hex('é')).toBe(
      createHash('sha256').update(Buffer.from('é', 'utf8')).digest('hex'),
    );
  });
});
