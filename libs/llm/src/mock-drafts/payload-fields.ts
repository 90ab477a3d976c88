import { isPlainObject } from '@app/mission';

/** Payloads come from an ERP and are untyped; these read a field only if it has the expected shape. */
export function textField(payload: Record<string, unknown>, key: string): string | undefined {
  const value = payload[key];
  if (typeof value === 'string' && value.trim()) return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function numberField(payload: Record<string, unknown>, key: string): number | undefined {
  const value = payload[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function recordField(payload: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = payload[key];
  return isPlainObject(value) ? value : {};
}

/** Review feedback can be long; a draft quotes only its start. */
export function shortFeedback(feedback: string | null | undefined, max = 200): string | null {
  const text = feedback?.trim();
  if (!text) return null;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
