import { ROOT_CONTEXT, SpanKind, trace, type Link } from '@opentelemetry/api';
import { extractTraceContext, recordError, tracer } from '@spillway/telemetry';
import type {
  MigrationCause,
  MigrationTracing,
} from '../../application/migrate-conversations/index.js';

/**
 * One trace per conversation migration: a root span (not a child of the lifecycle event's consumer
 * span, or a shard of 1,000 conversations would be one unreadable trace) with a link to the trace
 * of the event that caused it: the lifecycle event's, or for a move made on demand, the turn that
 * found its conversation's shard gone (the span active when the move starts).
 */
export class OtelMigrationTracing implements MigrationTracing {
  inMigrationTrace<T>(
    conversationId: string,
    cause: MigrationCause,
    fn: (annotate: (key: string, value: string) => void) => Promise<T>,
  ): Promise<T> {
    const causeContext =
      trace.getSpanContext(extractTraceContext({ ...cause.traceHeaders }, ROOT_CONTEXT)) ??
      trace.getActiveSpan()?.spanContext();
    const links: Link[] = causeContext === undefined ? [] : [{ context: causeContext }];
    return tracer('@spillway/router').startActiveSpan(
      'migrate conversation',
      {
        root: true,
        kind: SpanKind.INTERNAL,
        links,
        attributes: {
          'spillway.conversation_id': conversationId,
          'spillway.migration.reason': cause.reason,
          'spillway.migration.cause_id': cause.causeId,
        },
      },
      ROOT_CONTEXT,
      async (span) => {
        try {
          return await fn((key, value) => span.setAttribute(key, value));
        } catch (error) {
          recordError(span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }
}
