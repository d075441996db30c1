import type { RJSFSchema, UiSchema } from '@rjsf/utils';

/** What the API shows for a secret that is set; sending it back in a PATCH keeps the secret. */
export const SECRET_MASK = '********';

type Schema = RJSFSchema & { 'x-secret'?: boolean };

/**
 * Prepares a connector's config JSON Schema (draft 2020-12, as the catalog serves it) for the form library:
 * the `$schema` tag goes, fields constrained only by string rules are typed as strings, and objects that are
 * free-form maps (column mappings) accept any string key.
 */
export function formSchema(schema: Record<string, unknown>): RJSFSchema {
  const walk = (node: Schema): Schema => {
    const out: Schema = { ...node };
    delete out.$schema;
    if (out.properties) {
      out.properties = Object.fromEntries(
        Object.entries(out.properties).map(([k, v]) => [k, typeof v === 'object' ? walk(v as Schema) : v]),
      );
    } else if (out.type === 'object' && out.additionalProperties === undefined) {
      out.additionalProperties = { type: 'string' };
    }
    // class-validator rules such as @Matches or @Length alone carry no type: they constrain strings.
    if (!out.type && !out.enum && !out.properties && !out.items && !out.anyOf && !out.oneOf && !out.allOf)
      out.type = 'string';
    // "a column or a list of columns": the form offers the single column (an unlabelled anyOf selector would
    // not pass accessibility checks); lists of columns stay possible through the API.
    if (out.anyOf?.some((o) => typeof o === 'object' && (o as Schema).type === 'string')) {
      delete out.anyOf;
      out.type = 'string';
    }
    if (out.additionalProperties && typeof out.additionalProperties === 'object')
      out.additionalProperties = walk(out.additionalProperties);
    if (out.items && typeof out.items === 'object' && !Array.isArray(out.items)) out.items = walk(out.items);
    return out;
  };
  return walk(schema);
}

/**
 * Secret fields (`writeOnly`) become password inputs whose help says whether a value is set; the value itself
 * never comes back from the API, only the mask.
 */
export function formUiSchema(schema: RJSFSchema, data: unknown): UiSchema {
  const ui: UiSchema = {};
  const record = (data ?? {}) as Record<string, unknown>;
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (typeof child !== 'object') continue;
    const node = child as Schema;
    if (node.writeOnly || node['x-secret']) {
      ui[key] = {
        'ui:widget': 'password',
        'ui:help': record[key] === SECRET_MASK ? 'Secret is set: leave it as is to keep it.' : 'Secret is not set.',
        'ui:options': { autocomplete: 'off' },
      };
    } else if (node.properties) {
      ui[key] = formUiSchema(node, record[key]);
    }
  }
  return ui;
}

/** A JSON merge patch from the stored config to the edited one: removed top-level fields become null. */
export function configPatch(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...after };
  for (const key of Object.keys(before)) if (!(key in after) || after[key] === undefined) patch[key] = null;
  return patch;
}
