import {
  describeRouteProblem,
  underField,
  validateModelRoutes,
  type ModelRouteTable,
} from './model-route-table.js';

const canary = (shadow?: { pool: string; sampleRate: number }): ModelRouteTable => ({
  models: {
    llama: {
      pools: [
        { pool: 'llama-v1', weight: 90 },
        { pool: 'llama-v2', weight: 10 },
      ],
      ...(shadow === undefined ? {} : { shadow }),
    },
  },
});

describe('model route table rules', () => {
  it('accepts a canary split with a shadow pool outside it', () => {
    expect(validateModelRoutes(canary({ pool: 'shadow', sampleRate: 0.1 }))).toEqual([]);
    expect(validateModelRoutes({ models: {} })).toEqual([]);
  });

  it('names what is wrong with a table before it is put in force', () => {
    const broken: ModelRouteTable = {
      models: {
        llama: {
          pools: [
            { pool: 'a', weight: -1 },
            { pool: 'a', weight: 0 },
          ],
          shadow: { pool: 'a', sampleRate: 2 },
        },
      },
    };
    expect(validateModelRoutes(broken).map(describeRouteProblem)).toEqual([
      'models["llama"].pools[0].weight: -1; use a number >= 0',
      'models["llama"].pools[1].pool: a is listed twice',
      'models["llama"].pools: no pool has a positive weight',
      'models["llama"].shadow.sampleRate: 2 is outside 0..1',
      'models["llama"].shadow.pool: a also serves replies; shadow a pool outside pools',
    ]);
  });

  it('names empty names, empty pool lists and weights that are not numbers', () => {
    const broken: ModelRouteTable = {
      models: {
        '': { pools: [{ pool: 'a', weight: 1 }] },
        llama: { pools: [], shadow: { pool: '', sampleRate: 0.5 } },
        mistral: { pools: [{ pool: '', weight: 1 }] },
        qwen: { pools: [{ pool: 'q', weight: Number.NaN }] },
      },
    };
    expect(validateModelRoutes(broken)).toEqual([
      { field: 'models[""]', problem: 'a model name cannot be empty' },
      { field: 'models["llama"].pools', problem: 'list at least one pool' },
      { field: 'models["llama"].shadow.pool', problem: 'a pool name cannot be empty' },
      { field: 'models["mistral"].pools[0].pool', problem: 'a pool name cannot be empty' },
      { field: 'models["qwen"].pools[0].weight', problem: 'NaN; use a number >= 0' },
      { field: 'models["qwen"].pools', problem: 'no pool has a positive weight' },
    ]);
  });

  it('puts fields under the request field that carried the table', () => {
    expect(
      underField('table', [{ field: 'models["x"].pools', problem: 'list at least one pool' }]),
    ).toEqual([{ field: 'table.models["x"].pools', problem: 'list at least one pool' }]);
  });
});
