const IPV4_HOST_PORT = /^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/;

/**
 * The grpc-js target for an address: `host:port` as it is, or several comma-separated `host:port`
 * (replicas of one service, e.g. an active and a standby registry) as one `ipv4:` target, so the
 * channel's pick_first connects to the first that accepts and moves on when it goes away. grpc-js
 * resolves a list only for IP literals, hence IPv4 addresses in a list.
 */
export function grpcTarget(address: string): string {
  const addresses = address.split(',').map((part) => part.trim());
  if (addresses.length === 1) return address;
  const unusable = addresses.filter((part) => !IPV4_HOST_PORT.test(part));
  if (unusable.length > 0) {
    throw new Error(
      `address list "${address}": each entry must be an IPv4 host:port, e.g. 127.0.0.1:50070 (not ${unusable.map((part) => `"${part}"`).join(', ')})`,
    );
  }
  return `ipv4:${addresses.join(',')}`;
}
