import { common } from '@spillway/contracts';
import { isDomainError } from '@spillway/errors';
import { finishReasonFromRouter } from './router-chat.grpc-client.js';

describe('finishReasonFromRouter', () => {
  it('passes the finish reasons OpenAI clients know', () => {
    expect(finishReasonFromRouter(common.FinishReason.FINISH_REASON_STOP)).toBe('stop');
    expect(finishReasonFromRouter(common.FinishReason.FINISH_REASON_LENGTH)).toBe('length');
    expect(finishReasonFromRouter(common.FinishReason.FINISH_REASON_CANCELLED)).toBe('cancelled');
    expect(finishReasonFromRouter(common.FinishReason.FINISH_REASON_UNSPECIFIED)).toBe('stop');
  });

  it('fails a reply that ended with an engine error with a retryable status, not finish_reason "error"', () => {
    let thrown: unknown;
    try {
      finishReasonFromRouter(common.FinishReason.FINISH_REASON_ERROR);
    } catch (error) {
      thrown = error;
    }
    expect(isDomainError(thrown) && thrown.code).toBe('SHARD.UNAVAILABLE');
    expect(isDomainError(thrown) && thrown.retryAfterSeconds).toBe(1);
  });
});
