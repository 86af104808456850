import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Client, credentials } from '@grpc/grpc-js';

/**
 * Speaks grpc.reflection on the wire, the way grpcurl does, without the server library's own
 * generated classes: the test then checks the protocol, not the library against itself.
 * Field numbers from grpc/reflection/v1/reflection.proto (identical in v1alpha).
 */
const REQUEST = { fileContainingSymbol: 4, listServices: 7 } as const;
const RESPONSE = { fileDescriptorResponse: 4, listServicesResponse: 6, errorResponse: 7 } as const;

export type ReflectionVersion = 'v1' | 'v1alpha';

export interface ReflectionAnswers {
  readonly services: string[];
  /** File names returned for each file_containing_symbol request, in request order. */
  readonly files: string[][];
}

export async function askReflection(
  address: string,
  version: ReflectionVersion,
  symbols: readonly string[],
): Promise<ReflectionAnswers> {
  const client = new Client(address, credentials.createInsecure());
  try {
    const stream = client.makeBidiStreamRequest(
      `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      (message: Uint8Array) => Buffer.from(message),
      (bytes: Buffer) => new Uint8Array(bytes),
    );
    const responses: Uint8Array[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (message: Uint8Array) => responses.push(message));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write(new BinaryWriter().uint32(tag(REQUEST.listServices)).string('').finish());
    for (const symbol of symbols) {
      stream.write(
        new BinaryWriter().uint32(tag(REQUEST.fileContainingSymbol)).string(symbol).finish(),
      );
    }
    stream.end();
    await done;
    const [list, ...files] = responses;
    return {
      services: serviceNames(list!),
      files: files.map(fileNames),
    };
  } finally {
    client.close();
  }
}

function tag(field: number): number {
  return (field << 3) | WireType.LengthDelimited;
}

function serviceNames(response: Uint8Array): string[] {
  const list = field(response, RESPONSE.listServicesResponse)[0];
  if (!list) throw new Error(`no list_services_response in ${describe(response)}`);
  return field(list, 1).map((service) => new TextDecoder().decode(field(service, 1)[0]));
}

function fileNames(response: Uint8Array): string[] {
  const descriptors = field(response, RESPONSE.fileDescriptorResponse)[0];
  if (!descriptors) throw new Error(`no file_descriptor_response in ${describe(response)}`);
  return field(descriptors, 1).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

/** Every length-delimited value of field `number` in a message. */
function field(message: Uint8Array, number: number): Uint8Array[] {
  const reader = new BinaryReader(message);
  const values: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (wireType !== WireType.LengthDelimited) {
      reader.skip(wireType);
      continue;
    }
    const value = reader.bytes();
    if (fieldNo === number) values.push(value);
  }
  return values;
}

function describe(response: Uint8Array): string {
  const error = field(response, RESPONSE.errorResponse)[0];
  return error ? `error_response ${new TextDecoder().decode(error)}` : `${response.length} bytes`;
}
