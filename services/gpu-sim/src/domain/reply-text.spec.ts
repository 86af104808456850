import { applyChatTemplate, chatPromptTokens, type ChatTurn } from './chat-template.js';
import {
  MAX_NATURAL_REPLY_TOKENS,
  MIN_NATURAL_REPLY_TOKENS,
  continuationOffset,
  planChatReply,
  planCompletionReply,
  replyStreamFor,
  replyText,
  replyToken,
} from './reply-text.js';
import { countTokens, tokenPieces } from './tokenizer.js';

const context: ChatTurn[] = [
  { role: 'system', content: 'You are a customer-support assistant for an online store.' },
  { role: 'user', content: 'My package has not arrived. Can you help?' },
];

describe('deterministic reply text', () => {
  it('is a pure function of seed and prompt', () => {
    const a = planChatReply({ seed: 7, messages: context });
    const b = planChatReply({ seed: 7, messages: context });
    const otherSeed = planChatReply({ seed: 8, messages: context });
    const otherPrompt = planChatReply({
      seed: 7,
      messages: [...context.slice(0, 1), { role: 'user', content: 'Hi' }],
    });
    expect(a.text).toBe(b.text);
    expect(otherSeed.text).not.toBe(a.text);
    expect(otherPrompt.text).not.toBe(a.text);
  });

  it('makes token i computable on its own', () => {
    const stream = replyStreamFor(3, chatPromptTokens(context));
    const whole = planChatReply({ seed: 3, messages: context });
    expect(whole.tokens).toEqual(
      Array.from({ length: stream.naturalLength }, (_, i) => replyToken(stream, i)),
    );
    expect(whole.text).toBe(replyText(stream));
  });

  it('re-tokenizes to exactly the emitted tokens (so counts agree everywhere)', () => {
    for (let seed = 0; seed < 50; seed++) {
      const plan = planChatReply({ seed, messages: context });
      expect(tokenPieces(plan.text)).toEqual(plan.tokens);
      expect(countTokens(plan.text)).toBe(plan.tokens.length);
    }
  });

  it('has a natural length of 16–256 tokens ending in a full stop, finish_reason stop', () => {
    for (let seed = 0; seed < 200; seed++) {
      const plan = planChatReply({ seed, messages: context });
      expect(plan.tokens.length).toBeGreaterThanOrEqual(MIN_NATURAL_REPLY_TOKENS);
      expect(plan.tokens.length).toBeLessThanOrEqual(MAX_NATURAL_REPLY_TOKENS);
      expect(plan.text.endsWith('.')).toBe(true);
      expect(plan.finishReason).toBe('stop');
    }
  });

  it('stops at max_tokens with finish_reason length, as a prefix of the natural reply', () => {
    const full = planChatReply({ seed: 1, messages: context });
    const short = planChatReply({ seed: 1, messages: context, maxTokens: 5 });
    expect(short.tokens).toEqual(full.tokens.slice(0, 5));
    expect(short.finishReason).toBe('length');
    expect(planChatReply({ seed: 1, messages: context, maxTokens: 10_000 }).text).toBe(full.text);
  });

  it('generates exactly max_tokens with ignore_eos, past the natural end', () => {
    const full = planChatReply({ seed: 1, messages: context });
    const long = planChatReply({ seed: 1, messages: context, maxTokens: 1000, ignoreEos: true });
    expect(long.tokens).toHaveLength(1000);
    expect(long.tokens.slice(0, full.tokens.length)).toEqual(full.tokens);
    expect(long.finishReason).toBe('length');
    expect(tokenPieces(long.text)).toEqual(long.tokens);
  });

  it('ends before a stop string, which is not emitted', () => {
    const full = planChatReply({ seed: 2, messages: context });
    const stop = full.tokens[4]!.trim();
    const plan = planChatReply({ seed: 2, messages: context, stop: [stop] });
    expect(plan.finishReason).toBe('stop');
    expect(plan.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(plan.tokens.join('')).toBe(plan.text);
  });

  it('plans completions from prompt token ids', () => {
    const plan = planCompletionReply({ seed: 0, promptTokenIds: [1, 2, 3], maxTokens: 16 });
    expect(plan.tokens).toHaveLength(16);
    expect(plan.promptTokenIds).toEqual([1, 2, 3]);
  });
});

describe('the continuation rule', () => {
  const full = planChatReply({ seed: 11, messages: context });

  it('answers "context + partial reply" with exactly the rest, for every cut point', () => {
    for (let k = 0; k <= full.tokens.length; k++) {
      const partial = full.tokens.slice(0, k).join('');
      const rest = planChatReply({
        seed: 11,
        messages: [...context, { role: 'assistant', content: partial }],
      });
      expect(rest.continuedFrom).toBe(k);
      expect(partial + rest.text).toBe(full.text);
      expect(rest.finishReason).toBe('stop');
    }
  });

  it('prompts the engine with the context plus the partial tokens (a cache-friendly prefix)', () => {
    const partial = full.tokens.slice(0, 7).join('');
    const rest = planChatReply({
      seed: 11,
      messages: [...context, { role: 'assistant', content: partial }],
    });
    const contextPrompt = applyChatTemplate(context, { addGenerationPrompt: true });
    expect(rest.promptTokenIds.slice(0, contextPrompt.length)).toEqual(contextPrompt);
    expect(rest.promptTokenIds).toHaveLength(contextPrompt.length + 7);
    expect(rest.promptTokenIds.slice(contextPrompt.length)).toEqual(full.tokenIds.slice(0, 7));
  });

  it('applies max_tokens to the new tokens only', () => {
    const partial = full.tokens.slice(0, 3).join('');
    const rest = planChatReply({
      seed: 11,
      messages: [...context, { role: 'assistant', content: partial }],
      maxTokens: 4,
    });
    expect(rest.tokens).toEqual(full.tokens.slice(3, 7));
    expect(rest.finishReason).toBe('length');
  });

  it('does not continue text that is not a token-aligned prefix of the reply', () => {
    const stream = replyStreamFor(11, applyChatTemplate(context, { addGenerationPrompt: true }));
    const cutMidToken = full.text.slice(0, full.tokens[0]!.length + 2);
    expect(continuationOffset(stream, cutMidToken)).toBeUndefined();
    const other = planChatReply({
      seed: 11,
      messages: [...context, { role: 'assistant', content: 'Something else' }],
    });
    expect(other.continuedFrom).toBe(0);
    expect(other.text).toBe(replyText(replyStreamFor(11, other.promptTokenIds)));
  });
});
