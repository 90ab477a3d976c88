export * from './patterns';
export * from './messages';
export * from './message-checks';
export * from './message-validation.pipe';
export * from './submit-mission.command';
export * from './validate-message';
export * from './services';
export * from './rejection-code';
