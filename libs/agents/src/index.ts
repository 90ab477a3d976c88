export * from './agent';
export * from './rank-agents';
export * from './agent-registry';
export * from './agent-events';
export * from './agent-slots';
export * from './verdict-credit';
export * from './agent-bodies';
export * from './agent-profiles-file';
