import { ModelPrice, PriceTable } from '@app/config';
import { TokenUsage } from '@app/mission';

/**
 * List prices at the time of writing; providers change them, so production overrides this with
 * LLM_PRICES. Self-hosted models (vLLM, Ollama, LM Studio) are deliberately absent: they cost no tokens.
 */
export const DEFAULT_PRICE_TABLE: Readonly<PriceTable> = Object.freeze({
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
});

/**
 * Providers answer with dated snapshots ("gpt-4o-mini-2024-07-18"), so an unlisted name falls back to the
 * longest key it starts with; the longest wins so gpt-4o-mini is never priced as gpt-4o.
 */
export function priceFor(table: Readonly<PriceTable>, model: string): ModelPrice | undefined {
  if (Object.hasOwn(table, model)) return table[model];
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (key && model.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

/** USD for one call; undefined when the model has no price, so "free" and "unknown" stay distinguishable. */
export function costOf(table: Readonly<PriceTable>, model: string, usage: TokenUsage): number | undefined {
  const price = priceFor(table, model);
  if (!price) return undefined;
  return (usage.promptTokens * price.inputPerMillion + usage.completionTokens * price.outputPerMillion) / 1_000_000;
}
