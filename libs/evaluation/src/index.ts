export * from './rubric';
export * from './check-result';
export * from './guest-support-checks';
export * from './pricing-checks';
export * from './maintenance-checks';
export * from './rule-based-judge';
export * from './llm-judge';
export * from './permanent-failure';
