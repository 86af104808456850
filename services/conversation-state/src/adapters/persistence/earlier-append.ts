import { isDeepStrictEqual } from 'node:util';
import type {
  AppendOutcome,
  AppendRequest,
  Result,
  SubmittedEvent,
} from '../../application/ports/conversation-event-store.port.js';
import { invalidField } from '../../domain/conversation.errors.js';
import { initialState } from '../../domain/conversation.state.js';
import { EVENT_COLUMNS, recordedEventOf, type RawEventRow } from './event-rows.js';
import { select, type Database, type StreamStates } from './stream-states.js';

interface StoredCopy extends RawEventRow {
  readonly tenant_id: string;
}

/**
 * Looks for the events of a refused raw append among the stored ones. A client whose append's
 * answer was lost (a dropped connection, `maybeApplied`) retries it unchanged; if the original
 * committed, the retry meets a version conflict or its own event ids, and must get the original
 * result instead.
 *
 * - `undefined`: none of the ids is stored; the refusal stands.
 * - ok: exactly this append already committed — the same events (same ids, same content) were
 *   decided on the state at the same expected version and stored right after it.
 * - a REQUEST.INVALID naming the event id: an id is stored with other content, in another
 *   conversation, or by another append.
 */
export async function earlierAppend(
  db: Database,
  states: StreamStates,
  request: AppendRequest,
): Promise<Result<AppendOutcome> | undefined> {
  const submitted = request.submitted ?? [];
  if (submitted.length === 0) return undefined;
  const rows = await select<StoredCopy>(
    db,
    `SELECT ${prefixed(EVENT_COLUMNS, 'e')}, s.tenant_id
       FROM events e JOIN streams s ON s.id = e.stream_id
      WHERE e.event_id = ANY($1::uuid[])
      ORDER BY e.version`,
    [submitted.map((event) => event.eventId)],
  );
  if (rows.length === 0) return undefined;
  const reused = reusedId(request, submitted, rows);
  if (reused) return { ok: false, error: reused };

  const first = rows[0]!;
  const fromVersion = request.expectedVersion;
  if (fromVersion !== undefined && sameAppend(request, rows, await stateAt(fromVersion))) {
    return {
      ok: true,
      value: {
        version: fromVersion + rows.length,
        lastGlobalPosition: Math.max(...rows.map((row) => Number(row.global_position))),
        duplicate: true,
        turnId: undefined,
        state: initialState(),
      },
    };
  }
  return {
    ok: false,
    error: invalidField(
      fieldOf(submitted, first.event_id),
      `${first.event_id} is already stored as version ${first.version} of this conversation by another append; ` +
        'to retry an append repeat it exactly (same expected_version and events), to add events give them new ids',
    ),
  };

  function stateAt(version: number) {
    return states.at(db, request.conversationId, version);
  }
}

/** The first stored copy that cannot be this append's: another conversation's, or other content. */
function reusedId(
  request: AppendRequest,
  submitted: readonly SubmittedEvent[],
  rows: readonly StoredCopy[],
) {
  for (const row of rows) {
    const field = fieldOf(submitted, row.event_id);
    // Another tenant's conversation is not named: it must look the same as any other id in use.
    if (row.stream_id !== request.conversationId || row.tenant_id !== request.tenantId)
      return invalidField(
        field,
        `${row.event_id} is already used by another conversation's event; give new events new ids`,
      );
    const stored = recordedEventOf(row, request.tenantId).event;
    const sent = submitted.find((event) => sameId(event.eventId, row.event_id))?.event;
    if (!sent || stored.type !== sent.type || !isDeepStrictEqual(stored.data, sent.data)) {
      return invalidField(
        field,
        `${row.event_id} is already stored as version ${row.version} with different content; give new events new ids`,
      );
    }
  }
  return undefined;
}

/**
 * Whether the stored copies are what this append would have written on the state at its expected
 * version: deciding again gives the same event ids, and they occupy the versions right after it.
 * (Deciding again also covers events the decider skipped as already recorded the first time.)
 */
function sameAppend(
  request: AppendRequest,
  rows: readonly StoredCopy[],
  state: Parameters<AppendRequest['decide']>[0],
): boolean {
  if (state.version !== request.expectedVersion) return false;
  const decision = request.decide(state);
  if (decision.outcome !== 'accepted') return false;
  const decidedIds = decision.eventIds ?? [];
  return (
    decidedIds.length === rows.length &&
    rows.every(
      (row, index) =>
        sameId(row.event_id, decidedIds[index] ?? '') && row.version === state.version + index + 1,
    )
  );
}

function fieldOf(submitted: readonly SubmittedEvent[], eventId: string): string {
  return `events[${submitted.findIndex((event) => sameId(event.eventId, eventId))}].event_id`;
}

/** PostgreSQL returns uuids in lower case; a client may send them in upper case. */
function sameId(left: string, right: string): boolean {
  return left.toLowerCase() === right.toLowerCase();
}

function prefixed(columns: string, alias: string): string {
  return columns
    .split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');
}
