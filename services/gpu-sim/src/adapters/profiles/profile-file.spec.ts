import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeStepMs } from '../../domain/engine-profile.js';
import { PROFILES_DIR, listProfiles, loadProfile } from './profile-file.js';

describe('shipped profiles', () => {
  it('include an 8B and a 70B model on H100s', () => {
    expect(listProfiles()).toEqual(
      expect.arrayContaining(['llama-3.1-8b-h100', 'llama-3.1-70b-h100x2']),
    );
  });

  it.each(listProfiles())(
    '%s loads, cites its sources and has a decode time that grows with batch size',
    (id) => {
      const profile = loadProfile(id);
      expect(profile.kvCache.blockSizeTokens).toBe(16);
      let previous = 0;
      for (let batch = 1; batch <= 1024; batch++) {
        const ms = decodeStepMs(profile.timing, batch);
        expect(ms).toBeGreaterThanOrEqual(previous);
        previous = ms;
      }
      expect(decodeStepMs(profile.timing, 128)).toBeGreaterThan(decodeStepMs(profile.timing, 1));
      const file = JSON.parse(readFileSync(join(PROFILES_DIR, `${id}.json`), 'utf8')) as {
        sources: { url: string }[];
        derivation: string[];
      };
      expect(file.sources.length).toBeGreaterThan(0);
      expect(file.sources.every((s) => s.url.startsWith('https://'))).toBe(true);
      expect(file.derivation.length).toBeGreaterThan(0);
    },
  );

  it('names the file and field of a bad profile', () => {
    expect(() => loadProfile('no-such-profile')).toThrow(/shipped profiles: .*llama-3.1-8b-h100/);
  });
});
