import type { IHeaders } from 'kafkajs';

/** Kafka header values arrive as Buffers (or arrays of them); handlers see UTF-8 strings. */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const single = Array.isArray(value) ? value[0] : value;
    if (single === undefined) continue;
    result[name] = Buffer.isBuffer(single) ? single.toString('utf8') : single;
  }
  return result;
}
