export const INTAKE_CLIENT = Symbol('INTAKE_CLIENT');
