import { finishReasonFromEngine } from './finish-reason.js';

describe('finishReasonFromEngine', () => {
  it.each([
    ['stop', 'stop'],
    ['eos_token', 'stop'],
    ['stop_sequence', 'stop'],
    ['tool_calls', 'stop'],
    [null, 'stop'],
    ['length', 'length'],
    ['abort', 'cancelled'],
    ['error', 'error'],
  ] as const)('%s → %s', (raw, expected) => {
    expect(finishReasonFromEngine(raw)).toBe(expected);
  });
});
