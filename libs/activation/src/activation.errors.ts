import { NotFoundError } from '@plexus/errors';

export class ActivationNotFoundError extends NotFoundError {
  constructor(readonly activationId: string) {
    super(`No activation ${activationId}`);
  }
}
