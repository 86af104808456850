import { type ChunkContext, contentChunk, contentChunkEncoder } from './openai-format.js';

describe('contentChunkEncoder', () => {
  const contexts: ChunkContext[] = [
    { id: 'chatcmpl-t1', created: 1_700_000_000, model: 'spillway-8b', includeUsage: false },
    {
      id: 'chatcmpl-"quoted"',
      created: 0,
      model: 'm\u00e9t\u00e9o',
      includeUsage: true,
      conversationId: 'conv-1',
    },
  ];
  const texts = ['', ' hello', 'line\nbreak "quote" \\ \u2028 \ud83d\ude00', '</script>'];

  it.each(contexts)('writes the same bytes as JSON.stringify(contentChunk) for %o', (context) => {
    const encode = contentChunkEncoder(context);
    for (const text of texts) {
      expect(encode(text)).toBe(JSON.stringify(contentChunk(context, text)));
    }
  });
});
