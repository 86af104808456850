import { grpcTarget } from './target.js';

describe('grpcTarget', () => {
  it('leaves one address as it is', () => {
    expect(grpcTarget('127.0.0.1:50070')).toBe('127.0.0.1:50070');
    expect(grpcTarget('registry.internal:50070')).toBe('registry.internal:50070');
  });

  it('turns a list into one ipv4 target, so pick_first can move between replicas', () => {
    expect(grpcTarget('127.0.0.1:7001, 127.0.0.1:7002')).toBe('ipv4:127.0.0.1:7001,127.0.0.1:7002');
  });

  it('refuses a list with host names, naming the entry', () => {
    expect(() => grpcTarget('127.0.0.1:7001,registry-b:7002')).toThrow(/"registry-b:7002"/);
  });
});
