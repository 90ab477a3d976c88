export * from './llm-client';
export * from './llm-error';
export * from './output-schemas';
export * from './parse-output';
export * from './language';
export * from './prng';
export * from './mock-llm-client';
export * from './prompt-builder';
