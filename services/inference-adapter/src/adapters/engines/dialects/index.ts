import type { EngineKind } from '../../../application/engine.port.js';
import type { EngineDialect } from './engine-dialect.js';
import { llamacppDialect } from './llamacpp.dialect.js';
import { ollamaDialect } from './ollama.dialect.js';
import { sglangDialect } from './sglang.dialect.js';
import { tgiDialect } from './tgi.dialect.js';
import { vllmDialect } from './vllm.dialect.js';

export type { EngineDialect } from './engine-dialect.js';

export function dialectFor(kind: EngineKind): EngineDialect {
  switch (kind) {
    case 'vllm':
      return vllmDialect;
    case 'tgi':
      return tgiDialect;
    case 'sglang':
      return sglangDialect;
    case 'llamacpp':
      return llamacppDialect;
    case 'ollama':
      return ollamaDialect;
    default: {
      const unknownKind: never = kind;
      throw new Error(`no dialect for engine kind ${String(unknownKind)}`);
    }
  }
}
