import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/** Fences whose every line is a command (but for heredoc bodies and output lines). */
const SHELL_FENCES = ['bash', 'sh', 'shell', 'zsh'];
/** A fence of a session: only `$ ` lines are commands, the rest is their output. */
const CONSOLE_FENCES = ['console', 'shell-session'];
/** In an unlabelled fence, a line is taken for a command when it starts with one of these (or with `$ `). */
const COMMAND_WORDS = /^(?:curl|wget|http|npm|npx|node|docker|redis-cli|kubectl|git|cd|export|env|make|sudo|open|xdg-open)\b/;
/** A line of output, not a command: an HTTP header or a log line's `name: value` (`Link: </api/…>`). */
const OUTPUT_LINE = /^[A-Za-z][\w-]*: /;

/**
 * The command lines of a Markdown text's shell examples, with their line numbers: every line of a
 * `bash`, `sh`, `shell` or `zsh` fence, the `$ ` lines of a `console` fence (without the `$ `), and
 * in an unlabelled fence the lines that start with `$ ` or a command (COMMAND_WORDS). Heredoc bodies
 * (`<<EOF` … `EOF`) are data, and output lines (OUTPUT_LINE) are not commands.
 */
function commandLines(markdown: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = [];
  let fence: string | undefined;
  let heredocEnd: string | undefined;
  markdown.split('\n').forEach((raw, index) => {
    const opening = /^\s*```\s*([\w-]*)/.exec(raw);
    if (opening) {
      fence = fence === undefined ? opening[1] : undefined;
      heredocEnd = undefined;
      return;
    }
    if (fence === undefined) return;
    if (heredocEnd !== undefined) {
      if (raw.trim() === heredocEnd) heredocEnd = undefined;
      return;
    }
    const prompt = /^\s*\$ (.*)$/.exec(raw);
    let text: string | undefined;
    if (SHELL_FENCES.includes(fence)) text = prompt ? prompt[1] : raw;
    else if (CONSOLE_FENCES.includes(fence)) text = prompt?.[1];
    else if (fence === '') text = prompt ? prompt[1] : COMMAND_WORDS.test(raw.trim()) ? raw : undefined;
    if (text === undefined || OUTPUT_LINE.test(text.trim())) return;
    // A heredoc's word, not a here-string (<<<) nor a shift in $(( )).
    heredocEnd = /(?<![<$(])<<-?\s*(['"]?)([A-Za-z_]\w*)\1/.exec(text)?.[2];
    lines.push({ line: index + 1, text });
  });
  return lines;
}

/**
 * The words of a shell command line that a shell would glob: outside quotes and comments, not
 * `NAME=value` assignments (never globbed), that look like a URL (`://`, `host:port/`, `/api/`)
 * and hold an unescaped `?`, `*` or `[`. zsh refuses such a word when it matches no file ("no
 * matches found"), and bash passes on whatever file it matches instead.
 */
function unquotedGlobUrls(text: string): string[] {
  const bare = text
    // An escaped character is taken as written, a quote included.
    .replace(/\\./g, '_')
    .replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/(^|\s)#.*$/, '');
  return bare
    .split(/[\s;&|<>()]+/)
    .filter((word) => !/^[A-Za-z_]\w*=/.test(word))
    .filter((word) => /:\/\/|[\w.-]+:\d+\/|\/api\//.test(word) && /[?*[]/.test(word));
}

/** README.md, every Markdown file under docs/ (its folders included), and every library's README. */
function documents(): string[] {
  const under = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? under(`${dir}/${entry.name}`) : entry.name.endsWith('.md') ? [`${dir}/${entry.name}`] : [],
    );
  const libraries = readdirSync(join(ROOT, 'libs'))
    .map((name) => `libs/${name}/README.md`)
    .filter((file) => existsSync(join(ROOT, file)));
  return ['README.md', ...under('docs'), ...libraries];
}

describe('finding the URLs a shell would glob in shell examples', () => {
  const flagged = (markdown: string) => commandLines(markdown).flatMap(({ text }) => unquotedGlobUrls(text));

  it.each([
    ['a query', 'curl -s localhost:3000/api/reviews?type=guest_support', 'localhost:3000/api/reviews?type=guest_support'],
    ['a query and a &', 'curl http://127.0.0.1:3000/x?a=1&b=2', 'http://127.0.0.1:3000/x?a=1'],
    ['a *', 'curl -s http://h/api/missions/*', 'http://h/api/missions/*'],
    ['a [', 'curl -g localhost:3000/api/x[0]', 'localhost:3000/api/x[0]'],
  ])('given an unquoted URL with %s, then it is flagged', (_case, line, word) => {
    expect(unquotedGlobUrls(line)).toEqual([word]);
  });

  it.each([
    ['a &> redirection', 'npm start &>/dev/null'],
    ['an escaped ?', 'curl localhost:3000/api/x\\?a=1'],
    ['&& without spaces', 'cd /tmp&&ls'],
    ['an assignment, which is not globbed', 'ODOO_URL=http://h/?db=x npm start'],
    ['a quoted URL', 'curl "localhost:3000/api/reviews?type=guest_support"'],
    ['a single-quoted URL', "curl 'http://h/api/x?a=1&b=2'"],
    ['a comment', 'npm start # then open http://localhost:3000/api/missions?limit=5'],
    ['a path that is no URL', 'ls dist/*.js'],
  ])('given %s, then nothing is flagged', (_case, line) => {
    expect(unquotedGlobUrls(line)).toEqual([]);
  });

  it('given an output line in a bash fence, then it is not taken for a command', () => {
    expect(flagged('```bash\ncurl -i "localhost:3000/api/missions"\nLink: </api/missions?offset=50>; rel="next"\n```')).toEqual([]);
  });

  it('given a heredoc body, then it is data, and the command after it is checked again', () => {
    const markdown = "```bash\ncat > f <<'EOF'\nsee http://h/api/x?a=1\nEOF\ncurl http://h/api/y?b=2\n```";

    expect(flagged(markdown)).toEqual(['http://h/api/y?b=2']);
  });

  it.each([
    ['a here-string', 'cat <<< "x"'],
    ['a shift in arithmetic', 'echo $((1<<2))'],
  ])('given %s, then the lines after it are still checked, not taken for a heredoc body', (_case, line) => {
    expect(flagged(`\`\`\`bash\n${line}\ncurl http://h/api/y?b=2\n\`\`\``)).toEqual(['http://h/api/y?b=2']);
  });

  it('given a console fence, then its $ lines are checked and its output is not', () => {
    const markdown = '```console\n$ curl localhost:3000/api/x?a=1\nGET http://h/api/y?b=2 answered 200\n```';

    expect(flagged(markdown)).toEqual(['localhost:3000/api/x?a=1']);
  });

  it.each(['zsh', 'shell', 'sh'])('given a %s fence, then its lines are checked', (language) => {
    expect(flagged(`\`\`\`${language}\ncurl localhost:3000/api/x?a=1\n\`\`\``)).toEqual(['localhost:3000/api/x?a=1']);
  });

  it('given an unlabelled fence, then the lines that look like commands are checked, and the rest is not', () => {
    const markdown = '```\ncurl localhost:3000/api/x?a=1\nsee http://h/api/y?b=2\n$ npm run x -- --url http://h/api/z?c=3\n```';

    expect(flagged(markdown)).toEqual(['localhost:3000/api/x?a=1', 'http://h/api/z?c=3']);
  });

  it('given fences of other languages, then they are not checked', () => {
    expect(flagged('```json\n{"url": http://h/api/x?a=1}\n```\n```ts\nfetch(http://h/api/x?a=1)\n```')).toEqual([]);
  });

  it("given the documents, then docs/ folders and the libraries' READMEs are among them", () => {
    expect(documents()).toEqual(expect.arrayContaining(['README.md', 'docs/operations.md', 'libs/guest-data/README.md']));
  });
});

describe("shell examples in the README, docs/ and the libraries' READMEs", () => {
  // `curl -s localhost:3000/api/reviews?type=guest_support` failed in zsh ("no matches found"), the
  // shell of macOS: a `?` outside quotes is a glob; a `&` would run the command in the background.
  it('given a URL with a query in a shell example, then it is quoted, so that zsh and bash pass it on as written', () => {
    const unquoted = documents().flatMap((file) =>
      commandLines(readFileSync(join(ROOT, file), 'utf8')).flatMap(({ line, text }) => unquotedGlobUrls(text).map((word) => `${file}:${line}: ${word}`)),
    );

    expect(unquoted).toEqual([]);
  });
});
