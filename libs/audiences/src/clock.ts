import { Injectable } from '@nestjs/common';

/** The time evaluations run at. Injectable so tests can move it and watch event windows expire. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
