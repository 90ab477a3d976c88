import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Mission, MissionType } from '@app/mission';
import { LlmRequest } from './llm-client';
import { OUTPUT_SCHEMAS } from './output-schemas';

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

export function buildLlmRequest(mission: Mission, opts: BuildLlmRequestOptions): LlmRequest {
  const prompt = fillTemplate(loadPromptTemplate(mission.type, opts.promptsDir), {
    title: mission.title,
    description: mission.description,
    payload: JSON.stringify(mission.payload, null, 2),
    feedback: mission.feedback?.trim() || NO_FEEDBACK,
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
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (placeholder, name: string) =>
    Object.hasOwn(values, name) ? values[name] : placeholder,
  );
}

function promptFile(type: MissionType, promptsDir?: string): string {
  const dirs = promptsDir ? [path.resolve(promptsDir)] : DEFAULT_PROMPT_DIRS;
  const candidates = dirs.map((dir) => path.join(dir, `${type}.md`));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`no prompt template for ${type}; looked in ${candidates.join(', ')}`);
  return found;
}
