import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';

const HEALTH_FILE = 'grpc/health/v1/health.proto';

/**
 * grpc/health/v1/health.proto as a descriptor. Our buf-built set holds only Spillway's protos, and
 * without this file reflection would list grpc.health.v1.Health but `grpcurl … describe` or
 * `grpcurl … grpc.health.v1.Health/Check` could not resolve it. Field numbers and names are the
 * upstream ones (github.com/grpc/grpc-proto), which nice-grpc-server-health implements.
 */
const healthFile = create(FileDescriptorProtoSchema, {
  name: HEALTH_FILE,
  package: 'grpc.health.v1',
  syntax: 'proto3',
  messageType: [
    {
      name: 'HealthCheckRequest',
      field: [
        {
          name: 'service',
          jsonName: 'service',
          number: 1,
          label: Label.OPTIONAL,
          type: Type.STRING,
        },
      ],
    },
    {
      name: 'HealthCheckResponse',
      field: [
        {
          name: 'status',
          jsonName: 'status',
          number: 1,
          label: Label.OPTIONAL,
          type: Type.ENUM,
          typeName: '.grpc.health.v1.HealthCheckResponse.ServingStatus',
        },
      ],
      enumType: [
        {
          name: 'ServingStatus',
          value: [
            { name: 'UNKNOWN', number: 0 },
            { name: 'SERVING', number: 1 },
            { name: 'NOT_SERVING', number: 2 },
            { name: 'SERVICE_UNKNOWN', number: 3 },
          ],
        },
      ],
    },
  ],
  service: [
    {
      name: 'Health',
      method: [
        {
          name: 'Check',
          inputType: '.grpc.health.v1.HealthCheckRequest',
          outputType: '.grpc.health.v1.HealthCheckResponse',
        },
        {
          name: 'Watch',
          inputType: '.grpc.health.v1.HealthCheckRequest',
          outputType: '.grpc.health.v1.HealthCheckResponse',
          serverStreaming: true,
        },
      ],
    },
  ],
});

/**
 * The given FileDescriptorSet plus health.proto. Serialized repeated fields concatenate, so two
 * encoded sets back to back are one valid set.
 */
export function withHealthDescriptor(protoset: Uint8Array): Uint8Array {
  const existing = fromBinary(FileDescriptorSetSchema, protoset);
  if (existing.file.some((file) => file.name === HEALTH_FILE)) return protoset;
  const extra = toBinary(
    FileDescriptorSetSchema,
    create(FileDescriptorSetSchema, { file: [healthFile] }),
  );
  const merged = new Uint8Array(protoset.length + extra.length);
  merged.set(protoset, 0);
  merged.set(extra, protoset.length);
  return merged;
}
