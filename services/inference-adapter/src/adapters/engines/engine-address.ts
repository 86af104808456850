/**
 * Where the engine listens. Either an http(s) base URL, or `unix:/path/to.sock`: a Unix domain
 * socket on this host, spoken to as plain HTTP. An adapter runs beside its engine (one per GPU
 * shard), and vLLM serves its OpenAI API on a socket with `--uds <path>`, which skips the TCP
 * loopback stack. `unix:` followed by an absolute path is how gRPC and Docker write a socket
 * address (`unix:///path` is accepted too).
 */
export type EngineAddress =
  | { readonly transport: 'tcp'; readonly baseUrl: string }
  | { readonly transport: 'unix'; readonly socketPath: string };

/** Linux's `sun_path` holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

const EXAMPLES = 'e.g. http://127.0.0.1:8000, or unix:/run/vllm.sock for a Unix domain socket';

/** Reads ENGINE_URL; throws an Error that says what was expected. */
export function parseEngineAddress(value: string): EngineAddress {
  if (value.startsWith('unix:')) {
    const rest = value.slice('unix:'.length);
    // unix:///run/x.sock is an empty authority and an absolute path; unix://run/x.sock names a
    // host "run" and a relative path.
    const authority = rest.startsWith('//');
    const socketPath = rest.startsWith('///') ? rest.slice(2) : rest;
    if (!socketPath.startsWith('/') || (authority && !rest.startsWith('///')))
      throw new Error(`expected an absolute socket path after unix:, e.g. unix:/run/vllm.sock`);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES)
      throw new Error(
        `the socket path is ${Buffer.byteLength(socketPath)} bytes; Unix domain socket paths hold at most ${MAX_SOCKET_PATH_BYTES}`,
      );
    return { transport: 'unix', socketPath };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`expected the engine's base URL, ${EXAMPLES}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`expected an http, https or unix address, ${EXAMPLES}`);
  return { transport: 'tcp', baseUrl: value.replace(/\/+$/, '') };
}

/** How the address is shown in messages: as configured. */
export function describeEngineAddress(address: EngineAddress): string {
  return address.transport === 'unix' ? `unix:${address.socketPath}` : address.baseUrl;
}

/** A connect error code as a reader needs it: what ENOENT or EACCES mean for a socket path. */
export function explainConnectCode(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'ENOENT: no socket at that path; is the engine listening there?';
    case 'EACCES':
      return 'EACCES: no permission to connect to that socket';
    case 'ENOTSOCK':
      return 'ENOTSOCK: that path is not a socket';
    default:
      return code;
  }
}
