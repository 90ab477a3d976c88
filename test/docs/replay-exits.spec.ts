import { CliIo, EXIT_FINDINGS, EXIT_NOT_REWRAPPED, EXIT_OK, EXIT_WRITE, runReplay } from '../../scripts/replay';
import { flatDoc as flat } from '../support/docs-text';

/** `replay --help`, run in-process (no Redis needed), its output with line breaks made spaces. */
async function help(): Promise<string> {
  let stdout = '';
  const io: CliIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true }, env: {} };
  expect(await runReplay(['--help'], io)).toBe(EXIT_OK);
  return stdout.replace(/\s+/g, ' ');
}

describe("the replay CLI's exit codes in the docs", () => {
  // rebuild exited 0 over a changed log, and the docs said it reported the missions as unchanged.
  it('given a mission whose log hash chain breaks, then the README, the --help and the operations table give the exit code rebuild ends with', async () => {
    expect(flat('README.md')).toContain(`${EXIT_FINDINGS} \`verify\` found problems, or \`rebuild\` left missions whose log hash chain breaks as they were`);
    expect(await help()).toContain(
      `${EXIT_FINDINGS} verify found problems (the report names them), or rebuild left missions whose log hash chain breaks as they were`,
    );
    expect(flat('docs/operations.md')).toContain(
      `leaves the read model of each mission whose hash chain breaks as it is (it may be the only record of what the log said), names those missions and exits ${EXIT_FINDINGS}`,
    );
  });

  // verify stopped with exit 2 on a mission hash replaced by a string, naming no key.
  it('given a key of another Redis type, then the README, the --help and the operations table give the exit code verify and rebuild end with', async () => {
    expect(flat('README.md')).toContain('or keys of another Redis type (it names them)');
    expect(await help()).toContain('or keys of another Redis type (it names them)');
    expect(flat('docs/operations.md')).toContain('repairs the rest, and exits 1. |');
    expect(flat('docs/operations.md')).toContain('| `wrong-type` |');
  });

  // history and state passed over a deleted event with exit 0.
  it('given versions missing from the log, then the README and the --help give the exit code history and state end with', async () => {
    const readme = flat('README.md');
    expect(readme).toContain(`or \`history\` or \`state\` met versions of the mission missing from the log`);
    expect(readme).toContain(`missing from the log\`; \`missing\` in \`--json\`), with exit ${EXIT_FINDINGS};`);
    expect(readme).toContain(
      `a fold that would pass over a version missing from the log, or over an event that cannot be read (as for \`history\`), is refused with exit ${EXIT_FINDINGS}, naming it`,
    );
    expect(await help()).toContain('or history or state met versions of the mission missing from the log');
  });

  it('given events that cannot be read, then the README and the --help give the exit code history and state end with', async () => {
    const readme = flat('README.md');
    expect(readme).toContain('met versions of the mission missing from the log, or events of it that cannot be read');
    expect(readme).toContain(`is a row \`(unreadable)\` in its place with the reason (\`unreadable\` in \`--json\`), with exit ${EXIT_FINDINGS};`);
    expect(await help()).toContain('or events of it that cannot be read');
  });

  // history and state exited 2 on a bare WRONGTYPE, naming no key.
  it('given an event list of another Redis type, then the README and the --help give the exit code history and state end with', async () => {
    const readme = flat('README.md');
    expect(readme).toContain(`shows nothing and names the key, with exit ${EXIT_FINDINGS}, as \`state\` does |`);
    expect(readme).toContain('or an event list key of another Redis type (named), or');
    expect(await help()).toContain('or an event list key of another Redis type (named)');
  });

  // history, state and export exited 2 (bad input) on a log of another type, naming no key.
  it('given a log of another Redis type, then the README, the --help and the operations table give the exit code history, state and export end with', async () => {
    const readme = flat('README.md');
    expect(readme).toContain("or `history`, `state` or `export` met a partition's log of another Redis type (named; `export` writes no file); 2 bad arguments");
    expect(readme).toContain("or its partition's log (`…:log`, a stream), holds another Redis type");
    expect(readme).toContain(`is named as \`history\` names it, with exit ${EXIT_FINDINGS} and no file written |`);
    expect(await help()).toContain("or history, state or export met a partition's log of another Redis type (named; export writes no file)");
    expect(flat('docs/operations.md')).toContain(`name it the same way and exit ${EXIT_FINDINGS}, \`…; it is the event log of partition 0`);
  });

  // rewrap-keys stopped at such a key with exit 2, which the docs give for bad arguments.
  it('given keys under a master key not configured, then the README and the --help give the exit code rewrap-keys ends with', async () => {
    expect(flat('README.md')).toContain(`${EXIT_NOT_REWRAPPED} \`rewrap-keys\` left keys wrapped under a master key that is not configured`);
    expect(await help()).toContain(`${EXIT_NOT_REWRAPPED} rewrap-keys left keys wrapped under a master key that is not configured`);
  });

  // A full disk exited 2, which the docs give for bad arguments.
  it('given an export that cannot write its file, then the README and the --help give the exit code it ends with', async () => {
    expect(flat('README.md')).toContain(`${EXIT_WRITE} \`export\` could not write its file once it had opened it`);
    expect(await help()).toContain(`${EXIT_WRITE} export could not write its file once it had opened it`);
  });

  // Only the operations guide named 130, for export: a script stopped by Ctrl-C or SIGTERM found no word of it in --help or the README.
  it('given a long command interrupted, then the README and the --help give exit 130 and what to do after each command', async () => {
    const interrupted = '130 interrupted by Ctrl-C (SIGTERM: 143; the process ends by the signal, as a shell reports it)';
    expect(flat('README.md')).toContain(interrupted);
    expect(flat('README.md')).toContain('run `rebuild`, `verify` or `projections rebuild` again; after an `import`, purge what it wrote first');
    expect(await help()).toContain(interrupted);
    expect(await help()).toContain('run rebuild, verify or projections rebuild again; after an import, purge what it wrote first');
  });

  // An export whose reader went away exited 0, as the README and --help said ("or of export --out /dev/stdout, stopped early").
  it('given an export to stdout whose reader goes away, then the README, the --help and the export files section give exit 7, not 0', async () => {
    expect(flat('README.md')).toContain('the command ends quietly; but not the reader of an export, see 7)');
    expect(flat('README.md')).toContain('or the reader of a pipe or socket it wrote to went away');
    expect(await help()).toContain('(or the reader of the output stopped early, e.g. | head; not that of an export: see 7)');
    expect(await help()).toContain(
      `${EXIT_WRITE} export could not write its file once it had opened it (a full disk, an I/O error, or the reader of a pipe or socket`,
    );
    expect(flat('docs/operations.md')).toContain(`is a failed write too, exit ${EXIT_WRITE}, since what it got is an export cut short`);
  });
});
