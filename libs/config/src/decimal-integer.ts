/**
 * A whole number as a person writes one, in a variable or a query parameter: decimal digits, with a
 * `-` before them for a negative one. `Number()` takes far more (`0x3`, `0b11`, `1e1`, `+3`, and
 * blanks, which it reads as 0), so text is checked against this before it is converted.
 */
export const DECIMAL_INTEGER = /^-?\d+$/;
