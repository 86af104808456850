import { DomainError } from '@spillway/errors';
import type { AssignmentView } from '../../domain/index.js';
import type { ConversationPort } from '../conversation.port.js';
import { withShard, type ConversationView } from '../conversation-view.js';
import type { ModelRoutesPort } from '../model-routes.port.js';

export interface StartConversationCommand {
  readonly tenantId: string;
  /** Empty: the router picks the model when it serves exactly one. */
  readonly model: string;
  readonly systemPrompt: string;
  /** Empty: a new id is generated. */
  readonly conversationId: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Opens a conversation for a model this router serves. Nothing is placed until its first turn. */
export class StartConversation {
  constructor(
    private readonly conversations: ConversationPort,
    private readonly routes: ModelRoutesPort,
    private readonly assignments: AssignmentView,
  ) {}

  async execute(command: StartConversationCommand): Promise<ConversationView> {
    if (command.tenantId === '')
      throw new DomainError('REQUEST.INVALID', 'tenant_id is required', {
        details: { field: 'tenant_id' },
      });
    const models = Object.keys(this.routes.current().models);
    let model = command.model;
    if (model === '') {
      if (models.length !== 1) {
        throw new DomainError(
          'REQUEST.INVALID',
          `name the model; this router serves ${models.length === 0 ? 'none yet' : models.join(', ')}`,
          { details: { field: 'model' } },
        );
      }
      model = models[0] ?? '';
    } else if (!models.includes(model)) {
      throw new DomainError(
        'REQUEST.INVALID',
        `model ${JSON.stringify(model)} is not served here; ListModels names the models that are`,
        { details: { field: 'model' } },
      );
    }
    const record = await this.conversations.start({ ...command, model });
    return withShard(record, this.assignments);
  }
}
