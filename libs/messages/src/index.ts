export * from './patterns';
export * from './messages';
export * from './message-validation.pipe';
