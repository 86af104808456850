import {
  decideAdmission,
  initialAdmission,
  releaseStream,
  retryHintMs,
  startDrain,
} from './admission.js';

const noLatency = { ttftMsP50: 0, itlMsP50: 0 };

describe('admission', () => {
  it('admits up to the bound, refuses the next one with a retry hint, and admits again after a release', () => {
    let state = initialAdmission(2);
    for (let i = 0; i < 2; i++) {
      const decision = decideAdmission(state, noLatency);
      expect(decision.kind).toBe('admitted');
      state = decision.state;
    }
    const refused = decideAdmission(state, { ttftMsP50: 80, itlMsP50: 10 });
    expect(refused).toMatchObject({ kind: 'refused', reason: 'overloaded', retryAfterMs: 400 });
    expect(refused.state.inFlight).toBe(2);
    expect(decideAdmission(releaseStream(state), noLatency).kind).toBe('admitted');
  });

  it('refuses everything once draining, and keeps counting releases', () => {
    const draining = startDrain({ inFlight: 1, maxInFlight: 4, draining: false });
    expect(decideAdmission(draining, noLatency)).toMatchObject({
      kind: 'refused',
      reason: 'draining',
    });
    expect(releaseStream(releaseStream(draining)).inFlight).toBe(0);
  });

  it('bounds the retry hint for cold and pathological shards', () => {
    expect(retryHintMs(noLatency)).toBe(250);
    expect(retryHintMs({ ttftMsP50: 1, itlMsP50: 0 })).toBe(50);
    expect(retryHintMs({ ttftMsP50: 60_000, itlMsP50: 500 })).toBe(2_000);
  });
});
