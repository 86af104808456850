import { DomainError } from '@spillway/errors';
import { type Conversation, type TurnEvent } from '../../domain/chat.js';
import { estimatePromptTokens } from '../../domain/token-estimate.js';
import { ModelCatalog } from '../list-models/model-catalog.js';
import { type ChatPort } from '../ports/chat.port.js';
import { AdmissionGate } from '../run-turn/admission-gate.js';
import { TurnRunner } from '../run-turn/turn-runner.js';
import {
  aTenant,
  allowed,
  NO_METRICS,
  quietLog,
  stoppedClock,
  TURN_SETTINGS,
} from '../testing/fixtures.js';
import { Conversations, type SendTurn } from './conversations.use-case.js';

const tenant = aTenant;
const clock = stoppedClock;
const metrics = NO_METRICS;
const log = quietLog;

const stored: Conversation = {
  id: 'c-1',
  tenantId: tenant.id,
  model: 'm',
  systemPrompt: 'Be brief.',
  messages: [{ role: 'user', content: 'hello there' }],
  closed: false,
  createdAtMs: 0,
  version: 1,
  labels: {},
};

/** A router whose every turn starts, then fails before its first token. */
function failingRouter(): Partial<ChatPort> {
  return {
    getConversation: async () => stored,
    listModels: async () => [
      { id: 'm', ownedBy: 'spillway', createdAtMs: 0, contextWindowTokens: 0 },
    ],
    converse: async function* (): AsyncIterable<TurnEvent> {
      yield { type: 'started', turnId: 't', shardId: 's' };
      throw new DomainError('SHARD.UNAVAILABLE', 'the shard went away');
    },
  };
}

function setup() {
  const chat = failingRouter() as ChatPort;
  const reservations: number[] = [];
  const runner = new TurnRunner(
    chat,
    {
      admit: async (_tenant, _limits, tokens) => (reservations.push(tokens), allowed),
      settle: async () => undefined,
    },
    {
      claim: async () => ({ status: 'acquired' }),
      complete: async () => undefined,
      abandon: async () => undefined,
    },
    { get: async () => undefined, put: async () => undefined },
    new AdmissionGate(clock, {
      maxConcurrentTurns: 10,
      drainWindowMs: 10_000,
      fallbackRetryAfterMs: 5_000,
      maxRetryAfterMs: 60_000,
    }),
    metrics,
    clock,
    log,
    TURN_SETTINGS,
  );
  const catalog = new ModelCatalog(chat, clock, log, { ttlMs: 60_000, maxPromptTokens: 65_536 });
  return { conversations: new Conversations(chat, catalog, runner), reservations };
}

describe('Conversations', () => {
  it("counts a failed turn's message in the next turn's prompt estimate", async () => {
    const { conversations, reservations } = setup();
    const turn = (content: string): SendTurn => ({
      tenant,
      conversationId: 'c-1',
      messages: [{ role: 'user', content }],
      sampling: { maxTokens: 10 },
      fingerprintMaterial: '',
    });
    const first = turn('x'.repeat(80));
    const second = turn('y'.repeat(40));
    for (const command of [first, second]) {
      const outcome = await conversations.sendTurn(command);
      if (outcome.kind !== 'live') throw new Error('expected a live turn');
      await expect(outcome.turn.collect()).rejects.toMatchObject({ code: 'SHARD.UNAVAILABLE' });
    }

    const history = estimatePromptTokens(stored.messages, stored.systemPrompt);
    const added = (command: SendTurn): number =>
      estimatePromptTokens(command.messages) - estimatePromptTokens([]);
    // The conversation kept both failed turns' messages: the second prompt holds the first's.
    expect(reservations).toEqual([
      history + added(first) + 10,
      history + added(first) + added(second) + 10,
    ]);
  });
});
