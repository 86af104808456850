import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { invalidRequest } from '../../application/errors.js';
import { ModelCatalog } from '../../application/list-models/model-catalog.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { modelList } from './openai-format.js';

@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsHttpController {
  constructor(@Inject(ModelCatalog) private readonly catalog: ModelCatalog) {}

  @Get()
  async list(): Promise<ReturnType<typeof modelList>> {
    return modelList(await this.catalog.list());
  }

  @Get(':model')
  async retrieve(
    @Param('model') model: string,
  ): Promise<ReturnType<typeof modelList>['data'][number]> {
    const found = modelList(await this.catalog.list()).data.find((m) => m.id === model);
    if (!found)
      throw invalidRequest('model', `The model '${model}' does not exist.`, 'model_not_found');
    return found;
  }
}
