import { readFileSync } from 'node:fs';
import { type Server } from 'nice-grpc';
import { ServerReflection, ServerReflectionService } from 'nice-grpc-server-reflection';
import { withHealthDescriptor } from './health-descriptor.js';

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';
const REFLECTION_V1 = 'grpc.reflection.v1.ServerReflection';
const REFLECTION_V1ALPHA = 'grpc.reflection.v1alpha.ServerReflection';

/**
 * v1alpha is what grpcurl before 1.9, Postman and many other tools still ask for. Its messages are
 * byte-for-byte those of v1, so the same implementation serves it under the old path.
 */
const ServerReflectionV1AlphaService = {
  serverReflectionInfo: {
    ...ServerReflectionService.serverReflectionInfo,
    path: `/${REFLECTION_V1ALPHA}/ServerReflectionInfo`,
  },
};

/**
 * Adds server reflection (v1 and v1alpha) that lists `serviceNames` plus health and reflection
 * and describes them from the buf-built descriptor set.
 */
export function addReflection(
  server: Server,
  descriptorSetPath: string,
  serviceNames: readonly string[],
): void {
  const protoset = withHealthDescriptor(readFileSync(descriptorSetPath));
  const implementation = ServerReflection(protoset, [
    ...serviceNames,
    HEALTH_SERVICE_NAME,
    REFLECTION_V1,
    REFLECTION_V1ALPHA,
  ]);
  server.add(ServerReflectionService, implementation);
  server.add(ServerReflectionV1AlphaService, implementation);
}
