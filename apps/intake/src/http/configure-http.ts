import { BadRequestException, INestApplication, ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorBodyFilter } from './error-body.filter';

/** One entry per bad field, with the path into the body, e.g. {field: "source.recordId", problems: [...]}. */
export function fieldErrors(errors: ValidationError[], parent = ''): { field: string; problems: string[] }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, problems: Object.values(error.constraints) }] : [];
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

export function configureHttp(app: INestApplication): void {
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadRequestException({ message: 'request validation failed', details: fieldErrors(errors) }),
    }),
  );
  app.useGlobalFilters(new ErrorBodyFilter());
}
