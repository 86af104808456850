import { type chat, common } from '@spillway/contracts';
import type { ChatClient, RouterPlane } from './router-plane.js';

export interface TurnOutcome {
  readonly started: chat.TurnStarted | undefined;
  readonly text: string;
  readonly deltas: number;
  readonly completed: chat.TurnCompleted | undefined;
  /** Milliseconds since the epoch of every delta, in order. */
  readonly deltaTimesMs: readonly number[];
}

export function user(content: string): common.ChatMessage {
  return { role: common.Role.ROLE_USER, content, name: '' };
}

export function system(content: string): common.ChatMessage {
  return { role: common.Role.ROLE_SYSTEM, content, name: '' };
}

export function assistant(content: string): common.ChatMessage {
  return { role: common.Role.ROLE_ASSISTANT, content, name: '' };
}

/** A ConverseRequest with every field, defaults for the ones a test does not care about. */
export function aTurn(overrides: Partial<chat.ConverseRequest>): chat.ConverseRequest {
  return {
    tenantId: 'tenant-1',
    conversationId: '',
    messages: [],
    sampling: undefined,
    priority: common.Priority.PRIORITY_STANDARD,
    idempotencyKey: '',
    ttftBudgetMs: 0,
    stateless: false,
    model: '',
    endUser: '',
    ...overrides,
  };
}

/** Sends one turn and reads its stream to the end. */
export async function converse(
  client: ChatClient,
  request: chat.ConverseRequest,
  options: {
    signal?: AbortSignal;
    onStarted?: (started: chat.TurnStarted) => void;
    onDelta?: (outcome: TurnOutcome) => void;
  } = {},
): Promise<TurnOutcome> {
  let started: chat.TurnStarted | undefined;
  let completed: chat.TurnCompleted | undefined;
  let text = '';
  let deltas = 0;
  let lastIndex = 0;
  const deltaTimesMs: number[] = [];
  const snapshot = (): TurnOutcome => ({ started, text, deltas, completed, deltaTimesMs });
  for await (const response of client.converse(
    request,
    options.signal === undefined ? {} : { signal: options.signal },
  )) {
    const event = response.event;
    if (event === undefined) continue;
    switch (event.$case) {
      case 'started':
        started = event.value;
        options.onStarted?.(event.value);
        break;
      case 'delta':
        if (event.value.index < lastIndex || (deltas > 0 && event.value.index === lastIndex))
          throw new Error(`delta index ${event.value.index} after ${lastIndex}`);
        lastIndex = event.value.index;
        text += event.value.text;
        deltas++;
        deltaTimesMs.push(Date.now());
        options.onDelta?.(snapshot());
        break;
      case 'completed':
        completed = event.value;
        break;
    }
  }
  return snapshot();
}

/** A ChatMessage in the reference simulator's (OpenAI) shape. */
export function toReference(message: common.ChatMessage): {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
} {
  const roles = {
    [common.Role.ROLE_SYSTEM]: 'system',
    [common.Role.ROLE_USER]: 'user',
    [common.Role.ROLE_ASSISTANT]: 'assistant',
    [common.Role.ROLE_TOOL]: 'tool',
    [common.Role.ROLE_UNSPECIFIED]: 'user',
  } as const;
  return { role: roles[message.role], content: message.content };
}

/** Words for prompts that differ between conversations but read like text. */
export function prose(seed: number, words: number): string {
  const vocabulary = [
    'order',
    'refund',
    'shipping',
    'parcel',
    'invoice',
    'account',
    'password',
    'delivery',
    'warranty',
    'address',
    'payment',
    'coupon',
    'subscription',
    'upgrade',
    'return',
    'exchange',
  ];
  const out: string[] = [];
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < words; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out.push(vocabulary[state % vocabulary.length] ?? 'order');
  }
  return out.join(' ');
}

/**
 * The pool of the shard that served one stateless turn of `conversationId` sent through `client`
 * (the plane's model): where the model routes sent it.
 */
export async function poolOfNextTurn(
  plane: Pick<RouterPlane, 'model' | 'shard'>,
  client: ChatClient,
  conversationId: string,
): Promise<string> {
  const outcome = await converse(
    client,
    aTurn({
      conversationId,
      messages: [user(`Where do I run? ${prose(1, 4)}`)],
      stateless: true,
      model: plane.model,
    }),
  );
  if (outcome.completed === undefined)
    throw new Error(`the turn of ${conversationId} did not complete`);
  return plane.shard(outcome.started?.shardId ?? '').spec.pool;
}
