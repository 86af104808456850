import type { DomainError } from '@spillway/errors';
import { invalidField } from './errors.js';
import type { ShardSpec } from './shard.js';

const MAX_ID_LENGTH = 128;
const MAX_TEXT_LENGTH = 256;
// Printable ASCII without spaces: ids travel as Kafka keys, CloudEvents subjects and log fields.
const ID_PATTERN = /^[\x21-\x7e]+$/;
const HOST_PORT =
  /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)):(\d{1,5})$/;

/** An identifier: non-empty, printable ASCII without spaces, at most 128 characters. */
export function checkId(field: string, value: string): DomainError | undefined {
  if (value.length === 0) return invalidField(field, 'must not be empty');
  if (value.length > MAX_ID_LENGTH)
    return invalidField(field, `must be at most ${MAX_ID_LENGTH} characters`);
  if (!ID_PATTERN.test(value)) return invalidField(field, 'must be printable ASCII without spaces');
  return undefined;
}

export function checkText(field: string, value: string): DomainError | undefined {
  if (value.length > MAX_TEXT_LENGTH)
    return invalidField(field, `must be at most ${MAX_TEXT_LENGTH} characters`);
  return undefined;
}

/** host:port, where host is a name, an IPv4 address or a bracketed IPv6 address. */
export function checkEndpoint(field: string, value: string): DomainError | undefined {
  if (value.length === 0)
    return invalidField(field, 'must not be empty; expected host:port, e.g. 127.0.0.1:50061');
  const match = HOST_PORT.exec(value);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) {
    return invalidField(
      field,
      `"${value}" is not host:port with a port in 1..65535, e.g. 127.0.0.1:50061`,
    );
  }
  return undefined;
}

function checkNonNegative(field: string, value: number): DomainError | undefined {
  if (!Number.isFinite(value) || value < 0)
    return invalidField(field, 'must be a finite number >= 0');
  return undefined;
}

/** The first problem with a registration, or undefined. Field paths are those of RegisterShardRequest. */
export function validateShardSpec(spec: ShardSpec): DomainError | undefined {
  return (
    checkId('shard.shard_id', spec.shardId) ??
    checkId('shard.pool', spec.pool) ??
    checkEndpoint('shard.endpoint', spec.endpoint) ??
    checkText('shard.model', spec.model) ??
    checkText('shard.model_version', spec.modelVersion) ??
    checkText('shard.zone', spec.zone) ??
    checkText('shard.hardware_profile', spec.hardwareProfile) ??
    checkNonNegative('shard.cost_per_hour', spec.costPerHour)
  );
}
