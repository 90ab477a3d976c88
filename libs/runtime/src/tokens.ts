export const ENVIRONMENT = Symbol('ENVIRONMENT');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
export const REDIS = Symbol('REDIS');
