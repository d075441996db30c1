/**
 * Guards for data a client sends: names that collide with `Object.prototype` (`constructor`, `__proto__`,
 * `toString` …) and values PostgreSQL cannot store (NUL, lone UTF-16 surrogates) or that would overflow the
 * stack of a recursive walk (deep nesting).
 */

/**
 * A dictionary without a prototype: every string — `constructor`, `__proto__`, `hasOwnProperty` — is an
 * ordinary key of it, read and written like any other. Serialises with `JSON.stringify` as usual.
 */
export type Dictionary<T> = Record<string, T>;

/** An empty {@link Dictionary}. */
export function dictionary<T>(): Dictionary<T> {
  return Object.create(null) as Dictionary<T>;
}

/**
 * A null-prototype copy of an object's own enumerable keys (`undefined` or `null` give an empty one). `Object.assign`
 * onto a null-prototype target defines `__proto__` as an own key instead of changing a prototype.
 *
 * @example toDictionary(JSON.parse('{"__proto__": 1, "constructor": 2}')) // → both are own keys
 */
export function toDictionary<T>(from: Readonly<Record<string, T>> | undefined | null): Dictionary<T> {
  return from ? Object.assign(dictionary<T>(), from) : dictionary<T>();
}

/** The own value of `key`, never one inherited from `Object.prototype`. */
export function ownValue<T>(object: Readonly<Record<string, T>> | undefined | null, key: string): T | undefined {
  return object && Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** Deepest nesting of arrays and objects accepted in a request body. */
export const MAX_JSON_DEPTH = 64;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be stored (PostgreSQL refuses NUL, and lone surrogates are not Unicode text), or undefined. */
export function unstorableStringProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not valid Unicode text)';
  return undefined;
}

/** A value a client sent that cannot be stored, with where it is (`batch[2].traits.name`). */
export interface InputProblem {
  field: string;
  problem: string;
}

const fieldName = (parent: string, key: string | number): string =>
  typeof key === 'number' ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key;

/**
 * Walks parsed JSON without recursion (so any depth is safe to inspect) and returns the first problem: nesting
 * deeper than `maxDepth`, or a key or string value that cannot be stored. `root` names the value itself.
 *
 * @example findUnstorableInput({ name: 'a\u0000' }) // → { field: 'name', problem: 'contains a NUL character (\\u0000)' }
 */
export function findUnstorableInput(value: unknown, root = '', maxDepth = MAX_JSON_DEPTH): InputProblem | undefined {
  const stack: Array<{ value: unknown; field: string; depth: number }> = [{ value, field: root, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const { value: current, field, depth } = item;
    if (typeof current === 'string') {
      const problem = unstorableStringProblem(current);
      if (problem) return { field: field || '(body)', problem };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return { field: field || '(body)', problem: `is nested more than ${maxDepth} levels deep` };
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--)
        stack.push({ value: current[i], field: fieldName(field, i), depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(current);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      const problem = unstorableStringProblem(key);
      const name = fieldName(field, key);
      if (problem) return { field: name, problem: `has a name that ${problem}` };
      stack.push({ value: (current as Record<string, unknown>)[key], field: name, depth: depth + 1 });
    }
  }
  return undefined;
}

const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** The text with NUL and lone surrogates replaced by U+FFFD, so PostgreSQL stores it. */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATES, '\ufffd');
}

/**
 * A copy of refused input that can be stored as evidence (the quarantine): NUL and lone surrogates become U+FFFD
 * and anything nested deeper than `maxDepth` becomes the string `"[nested too deep]"`.
 */
export function storableCopy(value: unknown, maxDepth = MAX_JSON_DEPTH): unknown {
  const copy = (current: unknown, depth: number): unknown => {
    if (typeof current === 'string') return storableText(current);
    if (typeof current !== 'object' || current === null) return current;
    if (depth >= maxDepth) return '[nested too deep]';
    if (Array.isArray(current)) return current.map((item) => copy(item, depth + 1));
    const out = dictionary<unknown>();
    for (const [key, item] of Object.entries(current)) out[storableText(key)] = copy(item, depth + 1);
    return out;
  };
  return copy(value, 0);
}
