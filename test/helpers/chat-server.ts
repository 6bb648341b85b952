/**
 * A local stand-in for an OpenAI-compatible chat server (llama.cpp, vLLM,
 * Ollama): real HTTP on 127.0.0.1, POST /v1/chat/completions, answers chosen
 * by a handler, including failures (status codes, delays, bad JSON).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  temperature?: number;
  max_tokens?: number;
  authorization?: string;
}

export type Reply =
  | string
  | {
      status?: number;
      content?: string;
      raw?: string;
      body?: unknown;
      delayMs?: number;
      headers?: Record<string, string>;
      /** Token counts to report (default 10 prompt, 5 completion). */
      usage?: { prompt: number; completion: number };
    };

export interface ChatServer {
  url: string;
  requests: ChatRequest[];
  /** What the server reported in usage, summed over the answers it sent. */
  reported: { prompt: number; completion: number; calls: number };
  /** Most requests it held at once. */
  maxInFlight: number;
  close(): Promise<void>;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of req) parts.push(p as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export async function startChatServer(
  handler: (req: ChatRequest, n: number) => Reply | Promise<Reply>,
  opts: { port?: number } = {},
): Promise<ChatServer> {
  const requests: ChatRequest[] = [];
  const reported = { prompt: 0, completion: 0, calls: 0 };
  let inFlight = 0;
  const state = { maxInFlight: 0 };
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end('not found');
      return;
    }
    let body: ChatRequest;
    try {
      body = { ...(JSON.parse(await readBody(req)) as ChatRequest), authorization: req.headers.authorization };
    } catch {
      res.writeHead(400).end('bad json');
      return;
    }
    requests.push(body);
    state.maxInFlight = Math.max(state.maxInFlight, ++inFlight);
    let reply: Exclude<Reply, string>;
    try {
      const r = await handler(body, requests.length - 1);
      reply = typeof r === 'string' ? { content: r } : r;
      if (reply.delayMs) await new Promise((ok) => setTimeout(ok, reply.delayMs));
    } finally {
      inFlight--;
    }
    if (res.destroyed) return;
    const usage = reply.usage ?? { prompt: 10, completion: 5 };
    if (reply.raw === undefined && reply.body === undefined && (reply.status ?? 200) === 200) {
      reported.prompt += usage.prompt;
      reported.completion += usage.completion;
      reported.calls++;
    }
    const payload =
      reply.raw ??
      JSON.stringify(
        reply.body ?? {
          id: `chatcmpl-${requests.length}`,
          object: 'chat.completion',
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: reply.content ?? '' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion },
        },
      );
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers }).end(payload);
  }
  const server: Server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((ok) => server.listen(opts.port ?? 0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    reported,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
