import { Validator, type OutputUnit, type Schema } from '@cfworker/json-schema';
import { toErrorSchema, type RJSFSchema, type RJSFValidationError, type ValidatorType } from '@rjsf/utils';

/** Keywords that only say "something below failed"; the failure below is reported on its own. */
const SUMMARY_KEYWORDS = new Set(['properties', 'items', 'additionalProperties', 'allOf', '$ref']);

function validate(schema: RJSFSchema, data: unknown): OutputUnit[] {
  return new Validator(schema as Schema, '2020-12', false).validate(data).errors;
}

function toRjsfError(unit: OutputUnit): RJSFValidationError {
  // instanceLocation is a JSON pointer in URI-fragment form: "#/mapping/identifiers".
  const path = unit.instanceLocation.replace(/^#/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const property = path.length ? `.${path.join('.')}` : '';
  return {
    name: unit.keyword,
    property,
    message: unit.error,
    stack: `${property ? `${property.slice(1)} ` : ''}${unit.error}`.trim(),
    schemaPath: unit.keywordLocation,
  };
}

/**
 * The form library's validator contract over a JSON Schema validator that interprets schemas instead of
 * compiling them to functions, so the console runs under a CSP without 'unsafe-eval'. The API validates the
 * configuration again on save; this only gives feedback before the round trip.
 */
export const cspSafeValidator: ValidatorType = {
  validateFormData(formData, schema) {
    const errors = validate(schema, formData ?? {})
      .filter((u) => !SUMMARY_KEYWORDS.has(u.keyword) || u.keyword === 'additionalProperties')
      .map(toRjsfError);
    return { errors, errorSchema: toErrorSchema(errors) };
  },
  isValid(schema, formData) {
    return validate(schema, formData).length === 0;
  },
  rawValidation<Result>(schema: RJSFSchema, formData?: unknown) {
    return { errors: validate(schema, formData) as unknown as Result[] };
  },
};
