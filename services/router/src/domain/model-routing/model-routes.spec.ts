import { routeModel, type ModelRouteTable } from './model-routes.js';

const conversations = Array.from({ length: 10_000 }, (_, i) => `conversation-${i}`);

function table(
  canaryWeight: number,
  shadow?: { pool: string; sampleRate: number },
): ModelRouteTable {
  return {
    models: {
      llama: {
        pools: [
          { pool: 'llama-v1', weight: 100 - canaryWeight },
          { pool: 'llama-v2', weight: canaryWeight },
        ],
        shadow,
      },
    },
  };
}

function poolOf(routes: ModelRouteTable, conversationId: string): string | undefined {
  const routing = routeModel(routes, 'llama', conversationId);
  return routing.kind === 'routed' ? routing.pool : undefined;
}

describe('model routes', () => {
  it('splits conversations between pools by weight', () => {
    const onCanary = conversations.filter((id) => poolOf(table(10), id) === 'llama-v2').length;
    expect(onCanary / conversations.length).toBeGreaterThan(0.09);
    expect(onCanary / conversations.length).toBeLessThan(0.11);
  });

  it('keeps a conversation in one pool on every turn and in every router replica', () => {
    const routes = table(30);
    for (const id of conversations.slice(0, 500)) {
      const first = routeModel(routes, 'llama', id, 'turn-1');
      expect(routeModel(structuredClone(routes), 'llama', id, 'turn-2')).toMatchObject({
        kind: 'routed',
        pool: first.kind === 'routed' ? first.pool : '',
      });
    }
  });

  it('moves only the conversations of the grown slice when the canary ramps up', () => {
    const before = table(10);
    const after = table(25);
    for (const id of conversations) {
      if (poolOf(before, id) === 'llama-v2') expect(poolOf(after, id)).toBe('llama-v2');
    }
  });

  it('sends every conversation back to the stable pool at once on rollback', () => {
    const rolledBack = table(0);
    expect(conversations.every((id) => poolOf(rolledBack, id) === 'llama-v1')).toBe(true);
  });

  it('offers the other pools as fallbacks, heaviest first', () => {
    const routing = routeModel(table(10), 'llama', 'c-1');
    expect(routing.kind === 'routed' && routing.fallbackPools).toEqual(
      routing.kind === 'routed' && routing.pool === 'llama-v1' ? ['llama-v2'] : ['llama-v1'],
    );
  });

  it('samples turns for the shadow pool at its rate, deterministically per turn', () => {
    const routes = table(0, { pool: 'llama-v3-shadow', sampleRate: 0.05 });
    const shadowed = conversations.filter((id) => {
      const routing = routeModel(routes, 'llama', 'c-1', id);
      return routing.kind === 'routed' && routing.shadowPool === 'llama-v3-shadow';
    }).length;

    expect(shadowed / conversations.length).toBeGreaterThan(0.04);
    expect(shadowed / conversations.length).toBeLessThan(0.06);
    expect(routeModel(routes, 'llama', 'c-1', 'turn-9')).toEqual(
      routeModel(routes, 'llama', 'c-1', 'turn-9'),
    );
  });

  it('never shadows at a zero rate', () => {
    const routing = routeModel(table(0, { pool: 'shadow', sampleRate: 0 }), 'llama', 'c-1', 't');
    expect(routing).toMatchObject({ kind: 'routed', shadowPool: undefined });
  });

  it('does not route a model it does not know, nor one whose pools all weigh 0', () => {
    expect(routeModel(table(10), 'gpt-9', 'c-1')).toEqual({
      kind: 'unknown-model',
      model: 'gpt-9',
    });
    expect(routeModel(table(10), 'toString', 'c-1')).toMatchObject({ kind: 'unknown-model' });
    const off: ModelRouteTable = {
      models: { llama: { pools: [{ pool: 'llama-v1', weight: 0 }] } },
    };
    expect(routeModel(off, 'llama', 'c-1')).toMatchObject({ kind: 'unknown-model' });
  });
});
