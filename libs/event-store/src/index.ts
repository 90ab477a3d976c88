export * from './key-layout';
export * from './effect';
export * from './append-result';
export * from './mission-store';
export * from './upcast';
export * from './log-reader';
export * from './replay';
export * from './read-states';
