/**
 * Runs `body` in a module registry of its own (jest.isolateModules) in which every load of
 * `moduleName` is counted: `loads()` says how many so far. Require the code under test inside
 * `body`, so it loads `moduleName` (or not) afresh. For checks that a dependency is loaded only
 * when it is used.
 */
export function countingLoadsOf(moduleName: string, body: (loads: () => number) => void): void {
  let count = 0;
  jest.isolateModules(() => {
    jest.doMock(moduleName, () => {
      count += 1;
      return jest.requireActual(moduleName);
    });
    body(() => count);
  });
}
