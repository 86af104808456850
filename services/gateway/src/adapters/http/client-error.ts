import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Requests Node's HTTP parser rejects before any route sees them: CR/LF or control characters
 * smuggled into a header, a malformed request line, oversized headers. They still get OpenAI's
 * error shape and a message that says what was wrong; the connection is then closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : 400;
  const body = JSON.stringify({
    error: {
      message: describe(error.code),
      type: 'invalid_request_error',
      param: 'headers',
      code: 'malformed_request',
    },
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function describe(code: string | undefined): string {
  switch (code) {
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_HEADER_VALUE':
    case 'HPE_CR_EXPECTED':
    case 'HPE_LF_EXPECTED':
      return 'Malformed request header: header names and values must not contain CR, LF or other control characters.';
    case 'HPE_HEADER_OVERFLOW':
      return 'The request headers are too large.';
    case 'HPE_INVALID_METHOD':
      return 'Unknown HTTP method.';
    case 'HPE_INVALID_URL':
      return 'Malformed request URL.';
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return 'Conflicting or malformed Content-Length / Transfer-Encoding headers.';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'The request took too long to arrive.';
    case undefined:
    default:
      return `Malformed HTTP request (${code ?? 'unknown parser error'}).`;
  }
}
