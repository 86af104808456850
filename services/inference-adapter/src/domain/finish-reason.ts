/** Why a turn's stream ended, in Spillway's terms (the transport maps it to the proto enum). */
export type TurnFinishReason = 'stop' | 'length' | 'cancelled' | 'error';

/**
 * Engines disagree on the finish_reason strings of the OpenAI chunk format: vLLM and SGLang say
 * `abort` for a cancelled sequence, TGI's Messages API says `eos_token` / `stop_sequence`, tool
 * calls end with `tool_calls`. A reason we do not know still means the engine finished the reply
 * on its own, so it reads as `stop` rather than failing a complete turn.
 */
export function finishReasonFromEngine(raw: string | null | undefined): TurnFinishReason {
  switch (raw) {
    case 'length':
    case 'max_tokens':
    case 'model_length':
      return 'length';
    case 'abort':
    case 'cancelled':
    case 'canceled':
      return 'cancelled';
    case 'error':
      return 'error';
    case null:
    case undefined:
      return 'stop';
    default:
      return 'stop';
  }
}
