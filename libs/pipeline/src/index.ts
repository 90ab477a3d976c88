export * from './mission-effects';
export * from './mission-pipeline';
