/** What the optimizer needs of a language model: chat completions. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatOptions {
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
}

export interface ChatResponse {
  content: string;
  finishReason?: string;
  usage?: { promptTokens: number; completionTokens: number };
}

export interface ChatModel {
  /** Model name, for logs. */
  readonly name: string;
  chat(messages: readonly ChatMessage[], opts?: ChatOptions): Promise<ChatResponse>;
}
