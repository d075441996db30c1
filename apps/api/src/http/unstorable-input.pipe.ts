import { BadRequestException, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { findUnstorableInput } from '@plexus/profile';

/**
 * Runs before validation on every path parameter, query and body: a NUL character, a lone UTF-16 surrogate (in a
 * value or a key) or nesting deeper than 64 levels is a 400 naming the field — never a database error or a stack
 * overflow in the validator. (Tracking and webhook routes read their bodies themselves and check each message.)
 */
@Injectable()
export class UnstorableInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const problem = findUnstorableInput(value, metadata.data ?? '');
    if (problem) {
      const field = problem.field === '(body)' && metadata.type !== 'body' ? metadata.type : problem.field;
      throw new BadRequestException({
        message: `Invalid request: ${field} (${problem.problem})`,
        details: [{ field, problems: [problem.problem] }],
      });
    }
    return value;
  }
}
