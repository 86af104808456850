// One Jest run over every package: tests import workspace libraries from their TypeScript sources
// (no build needed for unit and integration tests), compiled by swc as ES modules.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@spillway/([a-z-]+)$': [
      '<rootDir>/libs/$1/src/index.ts',
      '<rootDir>/services/$1/src/index.ts',
    ],
    '^@spillway/([a-z-]+)/register$': '<rootDir>/libs/$1/src/register.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: [
    '<rootDir>/{libs,services,bench}/*/{src,test}/**/*.spec.ts',
    '<rootDir>/e2e/test/**/*.spec.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Integration suites talk to one shared broker and database server; two workers fit 2 cores.
  maxWorkers: process.env.JEST_WORKERS ?? 2,
  testTimeout: 60_000,
  // Names the run, and at its end kills any child process a killed worker left behind.
  globalSetup: '<rootDir>/libs/testing/jest/global-setup.mjs',
  globalTeardown: '<rootDir>/libs/testing/jest/global-teardown.mjs',
};
