import { fileURLToPath } from 'node:url';

/** The FileDescriptorSet of every proto (written by `buf build`), for gRPC server reflection. */
export const descriptorSetPath: string = fileURLToPath(
  new URL('../descriptor.binpb', import.meta.url),
);
