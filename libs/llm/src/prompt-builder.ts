import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Mission, MissionType, OUTPUT_SCHEMAS } from '@app/mission';
import { LlmRequest } from './llm-client';

export interface BuildLlmRequestOptions {
  systemPrompt: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Folder holding `<missionType>.md`; defaults to the prompts shipped with this library. */
  promptsDir?: string;
}

/**
 * Where the templates are: beside this file under ts-jest / ts-node, but tsc copies no .md files,
 * so the compiled file in dist/libs/llm/src/ reads them from the sources four levels up.
 */
const DEFAULT_PROMPT_DIRS = [path.join(__dirname, 'prompts'), path.resolve(__dirname, '../../../../libs/llm/src/prompts')];

const NO_FEEDBACK = 'None. This is the first attempt.';

/** Templates never change while a process runs, and executors build a request per attempt. */
const templateCache = new Map<string, string>();

/** Characters written as JSON escapes inside a data block: no tag can open or close in it, no line can break. */
const BLOCK_UNSAFE = /[<>\u2028\u2029]/g;

/**
 * Untrusted text (mission data, a reviewer's feedback, an agent's result) as a block of a prompt:
 * the value as JSON between the lines `<name>` and `</name>`. In JSON a line break in a title is
 * `\n`, so nothing inside starts a line of its own (no `## section`), and every `<` and `>` is
 * written `\u003c` / `\u003e` (the same JSON value), so nothing inside can close the block or
 * open another. The templates tell the model that the block is data, not instructions.
 */
export function dataBlock(name: string, value: unknown): string {
  const json = (JSON.stringify(value, null, 2) ?? 'null').replace(BLOCK_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `<${name}>\n${json}\n</${name}>`;
}

/** The mission as the executor's and the judge's prompts carry it. */
export function missionDataBlock(mission: Pick<Mission, 'title' | 'description' | 'payload'>): string {
  return dataBlock('mission-data', { title: mission.title, description: mission.description, payload: mission.payload });
}

export function buildLlmRequest(mission: Mission, opts: BuildLlmRequestOptions): LlmRequest {
  const feedback = mission.feedback?.trim();
  const prompt = fillTemplate(loadPromptTemplate(mission.type, opts.promptsDir), {
    mission: missionDataBlock(mission),
    feedback: feedback ? dataBlock('review-feedback', feedback) : NO_FEEDBACK,
  });
  return {
    systemPrompt: opts.systemPrompt,
    messages: [{ role: 'user', content: prompt }],
    outputSchema: { ...OUTPUT_SCHEMAS[mission.type] },
    timeoutMs: opts.timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
    context: {
      missionId: mission.id,
      attempt: mission.attempts,
      missionType: mission.type,
      title: mission.title,
      description: mission.description,
      payload: mission.payload,
      feedback: mission.feedback,
    },
  };
}

/** Cached by type and directory, so a mission costs no file system call once its template is read. */
export function loadPromptTemplate(type: MissionType, promptsDir?: string): string {
  const key = `${promptsDir ?? ''}\u0000${type}`;
  const cached = templateCache.get(key);
  if (cached !== undefined) return cached;
  const template = readFileSync(promptFile(type, promptsDir), 'utf8');
  templateCache.set(key, template);
  return template;
}

/** Replaces `{{name}}`; unknown placeholders stay visible so a typo in a template is noticed. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (placeholder, name: string) => (Object.hasOwn(values, name) ? values[name] : placeholder));
}

function promptFile(type: MissionType, promptsDir?: string): string {
  const dirs = promptsDir ? [path.resolve(promptsDir)] : DEFAULT_PROMPT_DIRS;
  const candidates = dirs.map((dir) => path.join(dir, `${type}.md`));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`no prompt template for ${type}; looked in ${candidates.join(', ')}`);
  return found;
}
