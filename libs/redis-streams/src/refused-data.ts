/**
 * What a handler registered with TAKES_REFUSED_DATA is given in place of data the transport refused
 * to parse (DataTooDeepError, DataTooLargeError) or whose bytes are not UTF-8 (DATA_NOT_UTF8), with the reason: it
 * answers the sender itself, as it does for data it refuses (the intake's `mission.submit`: the
 * rejected-submission stream). Any other handler's message goes to the poison stream at once.
 */
export class RefusedData {
  constructor(readonly reason: string) {}
}

/** The `extras` of `@EventPattern(pattern, TAKES_REFUSED_DATA)`: the handler takes RefusedData. */
export const TAKES_REFUSED_DATA = { takesRefusedData: true } as const;
