import { ApiResponse, type SchemaObject } from '@nestjs/swagger';

/**
 * A JSON Schema of a response body that also carries, at the type level only, the TypeScript type it describes.
 * {@link Returns} checks that type against what the handler returns, so a schema cannot promise a field the
 * handler does not produce (with the type it has once serialised to JSON).
 */
export type Json<T> = SchemaObject & { readonly __describes?: T };
type Described<S> = S extends Json<infer T> ? T : never;
type Shape = Record<string, Json<unknown>>;
type Flatten<T> = { [K in keyof T]: T[K] } & {};

export const string = (description?: string): Json<string> => ({ type: 'string', ...(description && { description }) });
/** A `Date` the handler returns is serialised as an ISO string. */
export const dateTime = (description?: string): Json<Date | string> => ({
  type: 'string',
  format: 'date-time',
  ...(description && { description }),
});
export const integer = (description?: string): Json<number> => ({
  type: 'integer',
  ...(description && { description }),
});
export const boolean = (description?: string): Json<boolean> => ({
  type: 'boolean',
  ...(description && { description }),
});
/** Any JSON value (a stored record, a rule tree, a reason). */
export const anyJson = (description?: string): Json<unknown> => ({ ...(description && { description }) });
export const oneOfStrings = <const T extends string>(values: readonly T[], description?: string): Json<T> => ({
  type: 'string',
  enum: [...values],
  ...(description && { description }),
});
export const literal = <const T extends boolean>(value: T): Json<T> => ({ type: 'boolean', enum: [value] });
export const nullable = <T>(schema: Json<T>): Json<T | null> => ({ ...schema, nullable: true });
export const array = <T>(items: Json<T>, description?: string): Json<T[]> => ({
  type: 'array',
  items,
  ...(description && { description }),
});
/** An object keyed by names the data chooses (traits, consent purposes, queue states). */
export const record = <T>(values: Json<T>, description?: string): Json<Record<string, T>> => ({
  type: 'object',
  additionalProperties: values,
  ...(description && { description }),
});

/** An object with `required` properties and, optionally, properties that may be absent. */
export function object<R extends Shape, O extends Shape = Record<never, Json<unknown>>>(
  required: R,
  optional?: O,
  description?: string,
): Json<Flatten<{ [K in keyof R]: Described<R[K]> } & { [K in keyof O]?: Described<O[K]> }>> {
  return {
    type: 'object',
    properties: { ...required, ...optional },
    ...(Object.keys(required).length > 0 && { required: Object.keys(required) }),
    ...(description && { description }),
  };
}

/**
 * A JSON column read back as `unknown` whose shape its writer guarantees (a membership reason, say): the
 * document describes the shape, the compile-time check accepts any value.
 */
export const stored = <T>(schema: Json<T>): Json<unknown> => schema;

/** One of several shapes (a check's success or its failure). */
export const anyOf = <S extends Array<Json<unknown>>>(...schemas: S): Json<Described<S[number]>> => ({
  anyOf: schemas,
});

/** `{ data: [...], next }`: a list paged by cursor. */
export const page = <T>(item: Json<T>): Json<{ data: T[]; next: string | null }> =>
  object({ data: array(item), next: nullable(string('cursor of the next page; null on the last')) });

/** `{ data: [...] }`: a whole list in one answer. */
export const list = <T>(item: Json<T>): Json<{ data: T[] }> => object({ data: array(item) });

type Handler<T> = (...args: never[]) => T | Promise<T>;

/**
 * Declares a route's response body in the OpenAPI document (and so in the console's generated client), and
 * checks at compile time that the handler returns what the schema describes.
 *
 * @example
 * ```ts
 * @Get(':id') @Returns(AUDIENCE) get(...): Promise<AudienceView> {}
 * @Post() @Returns(AUDIENCE, 201) create(...): Promise<AudienceView> {}
 * ```
 */
export function Returns<T>(schema: Json<T>, status = 200) {
  return <F extends Handler<T>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<F>): void => {
    ApiResponse({ status, schema })(target, key, descriptor);
  };
}
