import { DomainError, ERROR_CODES, type ErrorCode } from '@spillway/errors';
import { Metadata, Status } from 'nice-grpc-common';
import { fromGrpcError } from './from-grpc-error.js';
import {
  ERROR_CODE_KEY,
  ERROR_DETAILS_KEY,
  RETRY_AFTER_MS_KEY,
  toGrpcStatus,
} from './grpc-status.js';

// A Record over ErrorCode: adding a code without deciding its status fails to compile here too.
const EXPECTED: Record<ErrorCode, Status> = {
  'REQUEST.INVALID': Status.INVALID_ARGUMENT,
  'AUTH.UNAUTHENTICATED': Status.UNAUTHENTICATED,
  'AUTH.FORBIDDEN': Status.PERMISSION_DENIED,
  'CONVERSATION.NOT_FOUND': Status.NOT_FOUND,
  'CONVERSATION.VERSION_CONFLICT': Status.ABORTED,
  'CONVERSATION.CLOSED': Status.FAILED_PRECONDITION,
  'TURN.ALREADY_COMPLETED': Status.FAILED_PRECONDITION,
  'QUOTA.EXCEEDED': Status.RESOURCE_EXHAUSTED,
  'ADMISSION.SHED': Status.RESOURCE_EXHAUSTED,
  'DEADLINE.UNMEETABLE': Status.RESOURCE_EXHAUSTED,
  'SHARD.NOT_FOUND': Status.NOT_FOUND,
  'SHARD.UNAVAILABLE': Status.UNAVAILABLE,
  'SHARD.OVERLOADED': Status.RESOURCE_EXHAUSTED,
  'SHARD.DRAINING': Status.UNAVAILABLE,
  'ENGINE.BAD_RESPONSE': Status.UNKNOWN,
  'ENGINE.TIMEOUT': Status.DEADLINE_EXCEEDED,
  'ASSIGNMENT.CONFLICT': Status.ABORTED,
  'DEPENDENCY.UNAVAILABLE': Status.UNAVAILABLE,
  INTERNAL: Status.INTERNAL,
};

describe('toGrpcStatus', () => {
  it.each(ERROR_CODES.map((code) => [code, Status[EXPECTED[code]]] as const))(
    'maps %s to %s',
    (code, statusName) => {
      expect(Status[toGrpcStatus(code)]).toBe(statusName);
    },
  );

  it('never answers OK for an error', () => {
    for (const code of ERROR_CODES) expect(toGrpcStatus(code)).not.toBe(Status.OK);
  });
});

describe('fromGrpcError', () => {
  it.each([...ERROR_CODES])('round-trips %s through status and trailer', (code) => {
    const trailer = Metadata({ [ERROR_CODE_KEY]: code });
    const error = fromGrpcError(
      { code: toGrpcStatus(code), details: `${code}: what went wrong` },
      trailer,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe(code);
    expect(error.message).toBe('what went wrong');
    expect(error.details.grpcStatus).toBe(Status[toGrpcStatus(code)]);
  });

  it('carries retry-after-ms and details back', () => {
    const trailer = Metadata({
      [ERROR_CODE_KEY]: 'SHARD.OVERLOADED',
      [RETRY_AFTER_MS_KEY]: '1500',
      [ERROR_DETAILS_KEY]: JSON.stringify({ shardId: 's-1', queueDepth: 40 }),
    });
    const error = fromGrpcError(
      { code: Status.RESOURCE_EXHAUSTED, details: 'queue full' },
      trailer,
    );
    expect(error.retryAfterSeconds).toBe(1.5);
    expect(error.details).toMatchObject({ shardId: 's-1', queueDepth: 40 });
  });

  it('maps a bare status best-effort when no domain code was sent', () => {
    expect(
      fromGrpcError({ code: Status.UNAVAILABLE, details: 'No connection established' }).code,
    ).toBe('DEPENDENCY.UNAVAILABLE');
    expect(
      fromGrpcError({ code: Status.UNAVAILABLE, details: 'x' }, undefined, {
        peerUnavailableCode: 'SHARD.UNAVAILABLE',
      }).code,
    ).toBe('SHARD.UNAVAILABLE');
    expect(fromGrpcError({ code: Status.INVALID_ARGUMENT, details: 'x' }).code).toBe(
      'REQUEST.INVALID',
    );
    expect(fromGrpcError({ code: Status.NOT_FOUND, details: 'x' }).code).toBe('INTERNAL');
  });

  it('ignores a domain code it does not know and malformed details', () => {
    const trailer = Metadata({ [ERROR_CODE_KEY]: 'NOT.A.CODE', [ERROR_DETAILS_KEY]: '{oops' });
    const error = fromGrpcError({ code: Status.PERMISSION_DENIED, details: 'no' }, trailer);
    expect(error.code).toBe('AUTH.FORBIDDEN');
    expect(error.details).toEqual({ grpcStatus: 'PERMISSION_DENIED' });
  });

  it('passes a DomainError through unchanged', () => {
    const original = new DomainError('QUOTA.EXCEEDED', 'slow down');
    expect(fromGrpcError(original)).toBe(original);
  });
});
