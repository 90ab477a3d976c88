import { TokenUsage, isRecord } from '@app/mission';

export interface ModelPrice {
  /** USD per 1M prompt tokens. */
  inputPerMillion: number;
  /** USD per 1M completion tokens. */
  outputPerMillion: number;
}

/** Model name (or name prefix) → price in USD per 1M tokens. */
export type PriceTable = Record<string, ModelPrice>;

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
 * Reads a price table from JSON such as `{"gpt-4o-mini":{"inputPerMillion":0.15,"outputPerMillion":0.6}}`.
 * Throws naming the offending entry, because a typo here silently turns every cost into undefined or nonsense.
 */
export function parsePriceTable(json: string): PriceTable {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`price table is not valid JSON: ${detail}`);
  }
  if (!isRecord(parsed)) {
    throw new Error('price table must be a JSON object of model name → { inputPerMillion, outputPerMillion }');
  }
  const table: PriceTable = {};
  for (const [model, price] of Object.entries(parsed)) {
    if (!model.trim()) throw new Error('price table has an empty model name');
    if (!isRecord(price)) throw new Error(`price table entry "${model}" must be an object with inputPerMillion and outputPerMillion`);
    const unknown = Object.keys(price).filter((key) => key !== 'inputPerMillion' && key !== 'outputPerMillion');
    if (unknown.length > 0) throw new Error(`price table entry "${model}" has unknown field(s): ${unknown.join(', ')}`);
    table[model] = { inputPerMillion: priceField(model, price, 'inputPerMillion'), outputPerMillion: priceField(model, price, 'outputPerMillion') };
  }
  return table;
}

function priceField(model: string, price: Record<string, unknown>, key: keyof ModelPrice): number {
  const value = price[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`price table entry "${model}".${key} must be a non-negative number, got ${JSON.stringify(value) ?? 'nothing'}`);
  }
  return value;
}

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
