import {
  type CallOptions,
  ClientError,
  type ClientMiddleware,
  type ClientMiddlewareCall,
  type Metadata,
} from 'nice-grpc-common';
import { fromGrpcError, type FromGrpcErrorOptions } from '../errors/from-grpc-error.js';

/**
 * Rethrows a failed call as the DomainError the server threw, so callers branch on domain codes
 * and never on gRPC statuses. nice-grpc's ClientError drops trailing metadata, where the domain
 * code travels, so the trailer is captured on the way past.
 */
export function errorTranslationMiddleware(options: FromGrpcErrorOptions): ClientMiddleware {
  return async function* translateErrors<Request, Response>(
    call: ClientMiddlewareCall<Request, Response>,
    callOptions: CallOptions,
  ): AsyncGenerator<Response, Response | void, undefined> {
    let trailer: Metadata | undefined;
    const onTrailer = (received: Metadata): void => {
      trailer = received;
      callOptions.onTrailer?.(received);
    };
    try {
      return yield* call.next(call.request, { ...callOptions, onTrailer });
    } catch (error) {
      // Aborts by the caller and local bugs are not the server's answer; let them through.
      if (error instanceof ClientError) throw fromGrpcError(error, trailer, options);
      throw error;
    }
  };
}
