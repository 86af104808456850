import {
  DEFAULT_PLACEMENT_CONFIG,
  PlacementPipeline,
  aDirectory,
  aShard,
  seededRandom,
} from '../../domain/index.js';
import type { GenerateEvent, InferencePort } from '../inference.port.js';
import type { LogFields, LogPort } from '../log.port.js';
import type { RouterMetrics, ShadowResult } from '../router-metrics.port.js';
import { NO_METRICS } from '../router-metrics.port.js';
import { ShadowTurns } from './shadow-turns.js';
import type { TurnSpec } from './turn-runner.js';

function aShadow(reply: string | Error) {
  const results: ShadowResult[] = [];
  const lines: LogFields[] = [];
  const metrics: RouterMetrics = { ...NO_METRICS, shadowCompared: (r) => void results.push(r) };
  const log: LogPort = {
    debug: () => undefined,
    info: (_m, fields) => void lines.push(fields ?? {}),
    warn: (_m, fields) => void lines.push(fields ?? {}),
    error: () => undefined,
  };
  const inference: InferencePort = {
    async *generate(): AsyncGenerator<GenerateEvent> {
      if (reply instanceof Error) throw reply;
      yield { kind: 'delta', text: reply };
      yield {
        kind: 'completed',
        finishReason: 'stop',
        usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2, cachedPromptTokens: 0 },
      };
    },
  };
  const shadows = new ShadowTurns({
    pipeline: new PlacementPipeline(DEFAULT_PLACEMENT_CONFIG, seededRandom(1)),
    shards: aDirectory(aShard({ id: 'shadow-1', pool: 'shadow' })),
    inference,
    clock: { nowMs: () => 0 },
    timer: { schedule: () => () => undefined },
    metrics,
    log,
    timeoutMs: 1_000,
  });
  return { shadows, results, lines };
}

const spec: TurnSpec = {
  tenantId: 't',
  conversationId: 'c',
  turnId: 'turn-1',
  model: 'llama',
  messages: [{ role: 'user', content: 'hello' }],
  sampling: {},
  priority: 'standard',
  ttftBudgetMs: 0,
  pin: true,
  encoded: { promptTokens: 10, blocks: [] },
};

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('shadow turns', () => {
  it('counts and logs a shadow reply equal to the returned one as a match', async () => {
    const { shadows, results, lines } = aShadow('same words');
    shadows.launch(spec, 'shadow').settle('same words');
    await settled();
    expect(results).toEqual(['match']);
    expect(lines[0]).toMatchObject({ result: 'match', shadowPool: 'shadow', shardId: 'shadow-1' });
  });

  it('says where a different reply first differs', async () => {
    const { shadows, results, lines } = aShadow('same wards');
    shadows.launch(spec, 'shadow').settle('same words');
    await settled();
    expect(results).toEqual(['mismatch']);
    expect(lines[0]).toMatchObject({ result: 'mismatch', firstDifferenceAt: 6 });
  });

  it('counts a failed shadow as an error, and skips a pool without a ready shard', async () => {
    const failing = aShadow(new Error('down'));
    failing.shadows.launch(spec, 'shadow').settle('x');
    await settled();
    expect(failing.results).toEqual(['error']);

    const empty = aShadow('x');
    empty.shadows.launch(spec, 'nowhere').settle('x');
    expect(empty.results).toEqual(['skipped']);
  });
});
