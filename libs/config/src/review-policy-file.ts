import { readFileSync } from 'node:fs';
import { NO_REVIEW_POLICY, parseReviewPolicy, ReviewPolicy, ReviewPolicyError } from '@app/mission';

/**
 * The review policy in the file REVIEW_POLICY_FILE names (YAML, or JSON, which YAML reads too;
 * a relative path is taken from the working directory), or no rule when it is empty. Throws
 * ReviewPolicyError naming the variable, the file and each bad rule.
 */
export function readReviewPolicy(file: string): ReviewPolicy {
  if (file === '') return NO_REVIEW_POLICY;
  const where = `REVIEW_POLICY_FILE=${JSON.stringify(file)}`;
  let document: unknown;
  try {
    // Required only when a file is named: a service without a review policy never loads the parser.
    const yaml = require('yaml') as typeof import('yaml'); // eslint-disable-line @typescript-eslint/no-require-imports
    document = yaml.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ReviewPolicyError([`${where}: cannot be read as YAML or JSON: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`]);
  }
  try {
    return parseReviewPolicy(document);
  } catch (error) {
    if (error instanceof ReviewPolicyError) throw new ReviewPolicyError(error.problems.map((problem) => `${where}: ${problem}`));
    throw error;
  }
}
