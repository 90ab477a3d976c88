import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

interface NestProject {
  type: 'application' | 'library';
  root: string;
  sourceRoot: string;
  entryFile: string;
}

interface NestCli {
  root: string;
  sourceRoot: string;
  projects: Record<string, NestProject>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as T;
const folders = (dir: string) =>
  readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

/** What the folders say each project is: apps start at src/main.ts, libs export from src/index.ts. */
function expectedProjects(): Record<string, NestProject> {
  const projects: Record<string, NestProject> = {};
  for (const app of folders('apps')) projects[app] = { type: 'application', root: `apps/${app}`, entryFile: 'main', sourceRoot: `apps/${app}/src` };
  for (const lib of folders('libs')) projects[lib] = { type: 'library', root: `libs/${lib}`, entryFile: 'index', sourceRoot: `libs/${lib}/src` };
  return projects;
}

describe('nest-cli.json is true to the layout', () => {
  const cli = readJson<NestCli>('nest-cli.json');

  it('given the folders under apps/ and libs/, then its projects are exactly those, with their root, sourceRoot and entry file', () => {
    const sorted = (projects: Record<string, NestProject>) => Object.fromEntries(Object.entries(projects).sort(([a], [b]) => a.localeCompare(b)));
    expect(sorted(cli.projects)).toEqual(sorted(expectedProjects()));
    for (const project of Object.values(cli.projects)) {
      const entry = path.join(project.sourceRoot, `${project.entryFile}.ts`);
      expect({ entry, exists: existsSync(path.join(ROOT, entry)) }).toEqual({ entry, exists: true });
    }
  });

  it('given its default project, then it is one of the apps', () => {
    const app = Object.values(cli.projects).find((project) => project.type === 'application' && project.root === cli.root);
    expect(app?.sourceRoot).toBe(cli.sourceRoot);
  });

  it('given the libs, then each has its @app/<lib> path in tsconfig.json and no other path is there', () => {
    const { compilerOptions } = readJson<{ compilerOptions: { paths: Record<string, string[]> } }>('tsconfig.json');
    const libPaths = Object.fromEntries(folders('libs').map((lib) => [`@app/${lib}`, [`libs/${lib}/src`]]));
    expect(compilerOptions.paths).toEqual(libPaths);
  });
});
