import { isPlainObject } from '@app/mission';

export interface ModelPrice {
  /** USD per 1M prompt tokens. */
  inputPerMillion: number;
  /** USD per 1M completion tokens. */
  outputPerMillion: number;
}

/** Model name (or name prefix) → price in USD per 1M tokens. */
export type PriceTable = Record<string, ModelPrice>;

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
  if (!isPlainObject(parsed)) {
    throw new Error('price table must be a JSON object of model name → { inputPerMillion, outputPerMillion }');
  }
  const table: PriceTable = {};
  for (const [model, price] of Object.entries(parsed)) {
    if (!model.trim()) throw new Error('price table has an empty model name');
    if (!isPlainObject(price)) throw new Error(`price table entry "${model}" must be an object with inputPerMillion and outputPerMillion`);
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
