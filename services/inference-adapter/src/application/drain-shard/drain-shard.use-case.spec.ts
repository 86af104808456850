import { DomainError } from '@spillway/errors';
import {
  readyRuntime,
  RecordingLog,
  ScriptedEngine,
  wordTokenizer,
} from '../../../test/fakes/fake-ports.js';
import { GenerateTurn } from '../generate-turn/generate-turn.use-case.js';
import { DrainShard } from './drain-shard.use-case.js';

const command = {
  requestId: 'r',
  conversationId: 'c',
  tenantId: 't',
  model: '',
  messages: [{ role: 'user' as const, content: 'hi' }],
  sampling: {},
  resumeFromText: '',
};

describe('DrainShard', () => {
  it('refuses new streams with SHARD.DRAINING, lets the in-flight one finish and stops serving', async () => {
    const runtime = readyRuntime();
    const servingChanges: boolean[] = [];
    runtime.onServingChange((serving) => servingChanges.push(serving));
    let release!: () => void;
    const engine = new ScriptedEngine({
      deltas: ['a', 'b'],
      hold: new Promise((resolve) => (release = resolve)),
    });
    const turn = new GenerateTurn(runtime, engine, wordTokenizer);
    const inFlight = turn.execute(command, new AbortController().signal);
    await inFlight.next();

    expect(new DrainShard(runtime, new RecordingLog()).execute('scale-down')).toEqual({
      inFlightStreams: 1,
    });
    expect(servingChanges).toEqual([false]);
    const refused = await turn
      .execute(command, new AbortController().signal)
      .next()
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'SHARD.DRAINING' });

    const idle = runtime.whenIdle();
    release();
    const rest: string[] = [];
    for await (const event of inFlight) rest.push(event.kind);
    expect(rest).toEqual(['delta', 'delta', 'completed']);
    await idle;
    expect(runtime.inFlight).toBe(0);
  });
});
