import { Controller, Get, Inject } from '@nestjs/common';
import { Engine } from '../../domain/engine.js';
import { ServeCompletionUseCase } from '../../application/serve-completion.use-case.js';

const STARTED_AT = Math.floor(Date.now() / 1000);

@Controller('v1')
export class ModelsHttpController {
  constructor(
    @Inject(ServeCompletionUseCase) private readonly serve: ServeCompletionUseCase,
    @Inject(Engine) private readonly engine: Engine,
  ) {}

  @Get('models')
  list(): unknown {
    return {
      object: 'list',
      data: [
        {
          id: this.serve.modelName,
          object: 'model',
          created: STARTED_AT,
          owned_by: 'gpu-sim',
          root: this.serve.modelName,
          parent: null,
          max_model_len: this.engine.maxSequenceTokens,
        },
      ],
    };
  }
}
