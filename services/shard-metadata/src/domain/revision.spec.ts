import { nextRevision } from './revision.js';

describe('registry revision', () => {
  it('jumps to the wall clock in microseconds, so it stays ahead across restarts', () => {
    expect(nextRevision(0, 1_700_000_000_000)).toBe(1_700_000_000_000_000);
  });

  it('still grows when changes outpace the clock or the clock steps back', () => {
    expect(nextRevision(1_700_000_000_000_000, 1_700_000_000_000)).toBe(1_700_000_000_000_001);
    expect(nextRevision(1_700_000_000_000_500, 1_699_999_999_000)).toBe(1_700_000_000_000_501);
  });
});
