import { ValidationPipe } from '@nestjs/common';

/**
 * Validates a stream message against its DTO. A message that fails is a poison message: the
 * transport moves it to the poison stream with the validation errors instead of retrying it.
 */
export const messageValidation = new ValidationPipe({ transform: true, whitelist: false, forbidUnknownValues: true });
