import { randomUUID } from 'node:crypto';
import { common, type inference } from '@spillway/contracts';
import { planChatReply, type PlannedReply } from '@spillway/gpu-sim';

export const SEED = 42;
export const CUSTOMER_QUESTION =
  'My package has not arrived yet and the tracking page shows no update since Monday. What can I do?';

export function userMessage(content = CUSTOMER_QUESTION): common.ChatMessage {
  return { role: common.Role.ROLE_USER, content, name: '' };
}

export function generateRequest(
  overrides: Partial<inference.GenerateRequest> = {},
): inference.GenerateRequest {
  return {
    requestId: randomUUID(),
    conversationId: `conv-${randomUUID()}`,
    tenantId: 'tenant-acme',
    model: '',
    messages: [userMessage()],
    sampling: { seed: SEED, stop: [] },
    priority: common.Priority.PRIORITY_STANDARD,
    resumeFromText: '',
    ...overrides,
  };
}

/** What gpu-sim answers to `request` (the deterministic reply, continuation rule included). */
export function expectedReply(request: inference.GenerateRequest): PlannedReply {
  const messages = request.messages.map((m) => ({ role: roleName(m.role), content: m.content }));
  if (request.resumeFromText) messages.push({ role: 'assistant', content: request.resumeFromText });
  return planChatReply({
    seed: request.sampling?.seed ?? 0,
    messages,
    maxTokens: request.sampling?.maxTokens,
  });
}

function roleName(role: common.Role): 'system' | 'user' | 'assistant' | 'tool' {
  switch (role) {
    case common.Role.ROLE_SYSTEM:
      return 'system';
    case common.Role.ROLE_ASSISTANT:
      return 'assistant';
    case common.Role.ROLE_TOOL:
      return 'tool';
    case common.Role.ROLE_USER:
    case common.Role.ROLE_UNSPECIFIED:
      return 'user';
    default:
      return 'user';
  }
}

export interface CollectedTurn {
  readonly started: inference.GenerateStarted | undefined;
  readonly text: string;
  readonly deltas: number;
  readonly completed: inference.GenerateCompleted | undefined;
}

/** Reads a Generate stream to its end (rethrowing its error, with what arrived before it attached). */
export async function collectTurn(
  stream: AsyncIterable<inference.GenerateResponse>,
): Promise<CollectedTurn> {
  const turn = {
    started: undefined as inference.GenerateStarted | undefined,
    text: '',
    deltas: 0,
    completed: undefined as inference.GenerateCompleted | undefined,
  };
  try {
    for await (const response of stream) {
      const event = response.event;
      if (event?.$case === 'started') turn.started = event.value;
      else if (event?.$case === 'delta') {
        turn.text += event.value.text;
        turn.deltas++;
      } else if (event?.$case === 'completed') turn.completed = event.value;
    }
  } catch (error) {
    throw Object.assign(error as Error, { turn });
  }
  return turn;
}

/** Consumes a stream up to its first delta, leaving it open. */
export async function untilFirstDelta(
  stream: AsyncIterator<inference.GenerateResponse>,
): Promise<void> {
  for (;;) {
    const next = await stream.next();
    if (next.done) throw new Error('the stream ended before its first delta');
    if (next.value.event?.$case === 'delta') return;
  }
}

/**
 * Reads a stream to its end and rethrows how it ended. After an abort, responses already buffered
 * still arrive first; a stream left half-read keeps its call (and its deadline timer) alive.
 */
export async function untilEnd(stream: AsyncIterator<inference.GenerateResponse>): Promise<void> {
  for (;;) if ((await stream.next()).done) return;
}

/** The iterator of a stream, to read it step by step. */
export function iterate<T>(stream: AsyncIterable<T>): AsyncIterator<T> {
  return stream[Symbol.asyncIterator]();
}
