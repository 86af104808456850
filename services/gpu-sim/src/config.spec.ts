import { effectiveTiming, loadGpuSimConfig, ZERO_LATENCY_TIME_SCALE } from './config.js';

describe('gpu-sim timing', () => {
  it('reads a time scale of 0 as zero latency: a vanishing scale and no 1 ms timer floor', () => {
    const config = loadGpuSimConfig(['--time-scale', '0'], {});
    expect(effectiveTiming(config)).toEqual({ timeScale: ZERO_LATENCY_TIME_SCALE, minTickMs: 0 });
  });

  it('keeps any other scale and the configured minimum tick', () => {
    const config = loadGpuSimConfig(['--time-scale', '0.01'], { GPU_SIM_MIN_TICK_MS: '2' });
    expect(effectiveTiming(config)).toEqual({ timeScale: 0.01, minTickMs: 2 });
  });

  it('still refuses a negative scale', () => {
    expect(() => loadGpuSimConfig(['--time-scale', '-1'], {})).toThrow(/GPU_SIM_TIME_SCALE/);
  });
});

describe('gpu-sim listen address', () => {
  it('takes a Unix domain socket path from --uds', () => {
    expect(loadGpuSimConfig(['--uds', '/tmp/gpu-sim.sock'], {}).GPU_SIM_UDS).toBe(
      '/tmp/gpu-sim.sock',
    );
  });

  it('refuses a socket path longer than a Unix socket can hold, naming the variable', () => {
    expect(() => loadGpuSimConfig(['--uds', `/tmp/${'x'.repeat(120)}.sock`], {})).toThrow(
      /GPU_SIM_UDS.*at most 107 bytes/,
    );
  });
});
