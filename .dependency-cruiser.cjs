/**
 * Layer rules from STYLE.md, checked in `npm test`:
 * domain -> nothing; application -> domain; adapters -> application/domain; no deep imports into
 * another package's src/; kafkajs only inside libs/messaging.
 */
const IO_LIBRARIES =
  '^(@nestjs|typeorm|kafkajs|@grpc|nice-grpc|pg|ioredis|fastify|node:(fs|net|http|https|child_process))';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment:
        'Domain code imports only other domain code and @spillway/errors or @spillway/contracts types.',
      severity: 'error',
      from: { path: '^(services|libs)/[^/]+/src/domain/', pathNot: '\\.spec\\.ts$' },
      to: {
        pathNot: [
          '^(services|libs)/[^/]+/src/domain/',
          '^libs/(errors|contracts)/',
          'node_modules/@spillway/(errors|contracts)',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'domain-no-io-libraries',
      severity: 'error',
      from: { path: '^(services|libs)/[^/]+/src/domain/' },
      to: { path: IO_LIBRARIES },
    },
    {
      name: 'application-not-adapters',
      comment: 'Use cases depend on ports, never on the adapters that implement them.',
      severity: 'error',
      from: { path: '^services/[^/]+/src/application/' },
      to: { path: '^services/[^/]+/src/adapters/' },
    },
    {
      name: 'application-no-io-libraries',
      severity: 'error',
      from: { path: '^services/[^/]+/src/application/' },
      to: {
        path: '^(typeorm|kafkajs|@grpc|nice-grpc|pg|ioredis|fastify)',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'no-deep-imports',
      comment: 'Import another package through its name and exports, never its src/ or dist/.',
      severity: 'error',
      from: { path: '^(services|libs|bench)/([^/]+)/' },
      to: { path: '^(services|libs)/([^/]+)/(src|dist)/', pathNot: '^$1/$2/' },
    },
    {
      name: 'kafkajs-only-in-messaging',
      comment: 'kafkajs is unmaintained: one port in libs/messaging keeps a swap cheap.',
      severity: 'error',
      from: { pathNot: '^libs/messaging/' },
      to: { path: 'kafkajs' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|generated)/' },
    tsConfig: { fileName: 'tsconfig.base.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs'],
    },
  },
};
