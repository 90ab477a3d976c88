/**
 * Levels of arrays and objects a JSON body or stored event may nest: far more than any of them
 * holds (a mission's payload may nest 8 levels, under 2 of the body, 4 of an event), far less than
 * the ~1,400 at which class-transformer's recursion, or JSON.stringify of a replayed state,
 * overflows the stack. The intake's HTTP bodies and `replay import`'s lines are held to it.
 */
export const MAX_BODY_DEPTH = 32;
