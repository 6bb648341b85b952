/**
 * Token accounting: what a server reported per call (OpenAI's usage.prompt_tokens and
 * usage.completion_tokens), summed per step, epoch and run, and what it costs.
 */
import type { ChatResponse } from './chat-model.js';

export interface TokenCounts {
  prompt: number;
  completion: number;
  /** Model calls made. */
  calls: number;
  /** Calls whose answer reported no usage (their tokens are not in the sums). */
  unreported: number;
}

export function noTokens(): TokenCounts {
  return { prompt: 0, completion: 0, calls: 0, unreported: 0 };
}

/** Counts one call's answer into `into`. */
export function countCall(into: TokenCounts, r: Pick<ChatResponse, 'usage'>): void {
  into.calls++;
  if (r.usage === undefined) into.unreported++;
  else {
    into.prompt += r.usage.promptTokens;
    into.completion += r.usage.completionTokens;
  }
}

export function addTokens(into: TokenCounts, from: TokenCounts): TokenCounts {
  into.prompt += from.prompt;
  into.completion += from.completion;
  into.calls += from.calls;
  into.unreported += from.unreported;
  return into;
}

/** Prices in US dollars per million tokens. */
export interface TokenPrices {
  prompt: number;
  completion: number;
}

export function costUsd(t: TokenCounts, prices: TokenPrices): number {
  return (t.prompt * prices.prompt + t.completion * prices.completion) / 1e6;
}
