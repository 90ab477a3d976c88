import { sha1Hex } from '@app/audit';

const LINKS = /,"prevHash":"[0-9a-f]*","logPrevHash":"[0-9a-f]*"\}$/;

/**
 * An export's lines with each event line's body passed through `edit` (a line it leaves as it is
 * stays so) and every hash link computed again, as someone who can write the file can: the chains
 * hold, so only what checks the lines themselves (and the anchors) can tell.
 */
export function relinkedLines(lines: readonly string[], edit: (body: string) => string): string[] {
  const lastOfMission = new Map<string, string>();
  let logHead = '';
  return lines.map((line) => {
    if (!LINKS.test(line)) return line;
    const body = edit(line.replace(LINKS, ''));
    const { missionId } = JSON.parse(`${body}}`) as { missionId: string };
    const relinked = `${body},"prevHash":"${lastOfMission.get(missionId) ?? ''}","logPrevHash":"${logHead}"}`;
    logHead = sha1Hex(relinked);
    lastOfMission.set(missionId, logHead);
    return relinked;
  });
}
