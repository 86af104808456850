#!/usr/bin/env node
// `npm run chat`: a terminal chatbot that keeps one stored conversation through the gateway and
// streams each reply. Needs the system up (`npm start`) and the key it printed.
import { createInterface } from 'node:readline/promises';

const baseUrl = process.env.SPILLWAY_URL ?? 'http://127.0.0.1:8080';
const apiKey = process.env.SPILLWAY_API_KEY;
const model = process.env.SPILLWAY_MODEL ?? 'spillway-8b';
if (!apiKey) {
  console.error(
    'Set SPILLWAY_API_KEY to the key `npm start` printed, e.g. SPILLWAY_API_KEY=sk-spw-… npm run chat',
  );
  process.exit(2);
}
const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

async function call(path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    const retry = response.headers.get('retry-after');
    throw new Error(
      `${response.status}: ${problem.error?.message ?? response.statusText}${retry ? ` (retry after ${retry}s)` : ''}`,
    );
  }
  return response;
}

const conversation = await (
  await call('/v1/conversations', {
    model,
    system_prompt: 'You are a helpful customer-support assistant.',
  })
).json();
console.log(`conversation ${conversation.id} (model ${model}); empty line or Ctrl-D to quit\n`);

const terminal = createInterface({ input: process.stdin, terminal: false });
process.stdout.write('you> ');
for await (const raw of terminal) {
  const line = raw.trim();
  if (line === '') break;
  if (!process.stdin.isTTY) process.stdout.write(`${line}\n`);
  try {
    const response = await call(`/v1/conversations/${conversation.id}/turns`, {
      content: line,
      stream: true,
    });
    process.stdout.write('bot> ');
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.replace(/^data: /, '');
        if (data === '[DONE]') continue;
        const parsed = JSON.parse(data);
        if (parsed.error) throw new Error(parsed.error.message);
        process.stdout.write(parsed.choices?.[0]?.delta?.content ?? '');
      }
    }
    process.stdout.write('\n\n');
  } catch (error) {
    console.log(`\n(error) ${error.message}\n`);
  }
  process.stdout.write('you> ');
}
terminal.close();
