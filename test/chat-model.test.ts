import { afterEach, describe, expect, it } from 'vitest';

import { OpenAICompatibleChatModel } from '../src/aso/index.js';
import { type ChatServer, startChatServer } from './helpers/chat-server.js';

let server: ChatServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const fast = { backoffMs: 1, maxBackoffMs: 5 };

describe('OpenAICompatibleChatModel against a local server', () => {
  it('sends the chat-completions request and reads the answer', async () => {
    server = await startChatServer(() => 'The answer is \\boxed{4}.');
    const m = new OpenAICompatibleChatModel({
      baseUrl: `${server.url}/`,
      model: 'tiny',
      apiKey: 'sk-test',
      temperature: 0.3,
      maxTokens: 64,
    });
    const r = await m.chat([{ role: 'user', content: '2 + 2?' }]);
    expect(r.content).toBe('The answer is \\boxed{4}.');
    expect(r.finishReason).toBe('stop');
    expect(r.usage).toEqual({ promptTokens: 10, completionTokens: 5 });
    expect(server.requests[0]).toMatchObject({
      model: 'tiny',
      temperature: 0.3,
      max_tokens: 64,
      authorization: 'Bearer sk-test',
      messages: [{ role: 'user', content: '2 + 2?' }],
    });
  });

  it('takes the key from the environment', async () => {
    server = await startChatServer(() => 'ok');
    process.env.DSO_TEST_KEY = 'from-env';
    await new OpenAICompatibleChatModel({ baseUrl: server.url, model: 'm', apiKeyEnv: 'DSO_TEST_KEY' }).chat([
      { role: 'user', content: 'x' },
    ]);
    delete process.env.DSO_TEST_KEY;
    expect(server.requests[0].authorization).toBe('Bearer from-env');
  });

  it('retries 500 and 429 (honouring Retry-After), then succeeds', async () => {
    server = await startChatServer((_, n) =>
      n === 0 ? { status: 500, raw: 'boom' } : n === 1 ? { status: 429, raw: '{}', headers: { 'retry-after': '0' } } : 'fine',
    );
    const m = new OpenAICompatibleChatModel({ baseUrl: server.url, model: 'm', ...fast });
    expect((await m.chat([{ role: 'user', content: 'x' }])).content).toBe('fine');
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after its retries with MODEL_ERROR, and does not retry a 400', async () => {
    server = await startChatServer(() => ({ status: 503, raw: 'down' }));
    const m = new OpenAICompatibleChatModel({ baseUrl: server.url, model: 'm', retries: 2, ...fast });
    await expect(m.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({
      code: 'MODEL_ERROR',
      message: expect.stringContaining('after 3 attempts') as unknown,
    });
    expect(server.requests).toHaveLength(3);
    await server.close();
    server = await startChatServer(() => ({ status: 400, raw: '{"error":"bad"}' }));
    const m2 = new OpenAICompatibleChatModel({ baseUrl: server.url, model: 'm', retries: 2, ...fast });
    await expect(m2.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({
      code: 'MODEL_ERROR',
      message: expect.stringContaining('400') as unknown,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('times out slow answers with MODEL_TIMEOUT', async () => {
    server = await startChatServer(() => ({ content: 'late', delayMs: 400 }));
    const m = new OpenAICompatibleChatModel({ baseUrl: server.url, model: 'm', timeoutMs: 50, retries: 1, ...fast });
    await expect(m.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'MODEL_TIMEOUT' });
    expect(server.requests).toHaveLength(2);
  });

  it('reports invalid JSON and empty choices as MODEL_BAD_RESPONSE', async () => {
    server = await startChatServer((_, n) => (n === 0 ? { raw: 'not json' } : { body: { choices: [] } }));
    const m = new OpenAICompatibleChatModel({ baseUrl: server.url, model: 'm', ...fast });
    await expect(m.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'MODEL_BAD_RESPONSE' });
    await expect(m.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'MODEL_BAD_RESPONSE' });
  });

  it('reports an unreachable server after retrying', async () => {
    server = await startChatServer(() => 'x');
    const url = server.url;
    await server.close();
    server = undefined;
    const m = new OpenAICompatibleChatModel({ baseUrl: url, model: 'm', retries: 1, ...fast });
    await expect(m.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({
      code: 'MODEL_ERROR',
      message: expect.stringContaining('ECONNREFUSED') as unknown,
    });
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let most = 0;
    server = await startChatServer(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return 'ok';
    });
    const m = new OpenAICompatibleChatModel({ baseUrl: server.url, model: 'm', concurrency: 2 });
    await Promise.all(Array.from({ length: 7 }, () => m.chat([{ role: 'user', content: 'x' }])));
    expect(most).toBe(2);
    expect(server.requests).toHaveLength(7);
  });

  it('refuses bad options', () => {
    expect(() => new OpenAICompatibleChatModel({ baseUrl: 'ftp://x', model: 'm' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new OpenAICompatibleChatModel({ baseUrl: 'nope', model: 'm' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new OpenAICompatibleChatModel({ baseUrl: 'http://127.0.0.1:1/v1', model: '' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new OpenAICompatibleChatModel({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', concurrency: 0 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_COUNT' }),
    );
  });
});
