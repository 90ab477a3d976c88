import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { IsCleanText, IsKeptInPlain, KEPT_IN_PLAIN_PATTERN, MULTI_LINE, SINGLE_LINE } from './clean-text.validator';
import { Omittable } from './omittable.validator';

export interface KeptInPlainTextOptions {
  description: string;
  example?: string;
  /** Default false: the field may be left out (or null). */
  required?: boolean;
  /** Refuse the empty string (and say `minLength: 1`); a multi-line text needs a visible character anyway. */
  notEmpty?: boolean;
  /** Default 500. */
  maxLength?: number;
  /** Tab and line feed allowed (a visible character still required); default one line. */
  multiLine?: boolean;
}

/**
 * A free-text field staff write that is kept in plain for good (a reason in an event, a reviewer's
 * note or feedback): a string within its length, clean text, no `@` in any form, and its OpenAPI
 * schema saying the same. One decorator, so no such field drops one of the rules.
 */
export function KeptInPlainText(options: KeptInPlainTextOptions): PropertyDecorator {
  const maxLength = options.maxLength ?? 500;
  const schema = {
    ...(options.notEmpty ? { minLength: 1 } : {}),
    maxLength,
    pattern: KEPT_IN_PLAIN_PATTERN,
    description: options.description,
    ...(options.example === undefined ? {} : { example: options.example }),
  };
  const decorators: PropertyDecorator[] = [
    options.required ? ApiProperty(schema) : ApiPropertyOptional(schema),
    ...(options.required ? [] : [Omittable()]),
    IsString(),
    ...(options.notEmpty ? [IsNotEmpty()] : []),
    MaxLength(maxLength),
    IsCleanText(options.multiLine ? { ...MULTI_LINE, requireVisible: true } : SINGLE_LINE),
    IsKeptInPlain(),
  ];
  // Applied bottom-up, as stacked decorators are, so the validators (and their messages) keep their order.
  return applyDecorators(...decorators.reverse());
}
