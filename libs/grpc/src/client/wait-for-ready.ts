import { DomainError } from '@spillway/errors';
import { createChannel, waitForChannelReady } from 'nice-grpc';

/**
 * Resolves once a gRPC server accepts connections at `address`, or fails within `timeoutMs` with
 * an error that names the address, so a start-up script says what it was waiting for.
 */
export async function waitForReady(address: string, timeoutMs: number): Promise<void> {
  // A private channel: its failed connection attempts must not poison a pooled one's backoff.
  const channel = createChannel(address);
  try {
    await waitForChannelReady(channel, new Date(Date.now() + timeoutMs));
  } catch (error) {
    throw new DomainError(
      'DEPENDENCY.UNAVAILABLE',
      `gRPC server ${address} not reachable after ${timeoutMs} ms`,
      {
        cause: error,
      },
    );
  } finally {
    channel.close();
  }
}
