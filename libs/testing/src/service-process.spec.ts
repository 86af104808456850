import { existsSync } from 'node:fs';
import { repositoryRoot, serviceCommand } from './service-process.js';

describe('serviceCommand', () => {
  it('starts a service from its built main with tracing registered first, in its own folder', () => {
    expect(existsSync(`${repositoryRoot}services/router/package.json`)).toBe(true);
    expect(serviceCommand('router', ['--flag'])).toEqual({
      command: process.execPath,
      args: [
        '--import',
        '@spillway/telemetry/register',
        `${repositoryRoot}services/router/dist/main.js`,
        '--flag',
      ],
      cwd: `${repositoryRoot}services/router`,
    });
  });
});
