/** The list of Projection instances a service runs. */
export const PROJECTIONS = Symbol('PROJECTIONS');
