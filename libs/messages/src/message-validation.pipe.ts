import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { MESSAGE_CHECKS, messageProblems } from './message-checks';

/**
 * Validates a stream message against its DTO. A message that fails is a poison message: the
 * transport moves it to the poison stream with the validation errors instead of retrying it.
 * The DTOs in MESSAGE_CHECKS are checked by hand-written code and passed on as parsed (no class
 * instance); any other DTO goes through class-validator as before.
 */
class MessageValidationPipe extends ValidationPipe {
  constructor() {
    super({ transform: true, whitelist: false, forbidUnknownValues: true });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const check = metadata.metatype ? MESSAGE_CHECKS.get(metadata.metatype) : undefined;
    if (!check) return super.transform(value, metadata);
    const problems = messageProblems(check, value);
    // The shape ValidationPipe throws, so the transport records the reason as before.
    if (problems.length > 0) throw new BadRequestException(problems);
    return value;
  }
}

export const messageValidation = new MessageValidationPipe();
