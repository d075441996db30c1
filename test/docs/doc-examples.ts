/**
 * The documentation's example commands, as test/docs/examples.spec.ts runs them.
 *
 * The convention (docs/ADMIN.md, "How the examples are tested"):
 * - A fenced block marked `sh` is run, in the order of its page, against a hub started with the vendor emulators;
 *   variables set in one block (`SOURCE=$(curl … | jq -r .id)`) are seen by the next blocks of the page.
 * - Any other shell block (`bash`, `shell`, `console`), or an `sh` block that is not to be run, is preceded by
 *   `<!-- not run: the reason -->` on the line before its fence.
 * - Every `curl` of a run block must answer 2xx, unless an expectation says otherwise.
 * - An expectation is a comment starting with `# →` at the end of a command's last line, or alone on the line after
 *   the command: `# → 202 { "runId": "…" }`. Its optional status is checked exactly; when it shows a JSON object, the
 *   answer must be an object holding every key it names at the top level (`{ runId, stats }` or
 *   `{ "runId": "…" }`); when it shows an array (`[{ … }]`), the answer must be an array.
 */

export interface DocBlock {
  /** Path of the page, from the repository root. */
  file: string;
  /** Line of the opening fence (1-based). */
  line: number;
  lang: string;
  code: string;
  /** The reason given in `<!-- not run: … -->`, when the block is not run. */
  notRun?: string;
}

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

/** Every fenced block of a Markdown page whose language is a shell's, with its not-run reason if marked. */
export function shellBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith(`${indent}${fence}`)) end++;
    if (SHELL_LANGS.has(lang)) {
      const code = lines
        .slice(i + 1, end)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n');
      let before = i - 1;
      while (before >= 0 && lines[before].trim() === '') before--;
      const marker = before >= 0 ? /<!--\s*not run:\s*(.+?)\s*-->/.exec(lines[before]) : null;
      blocks.push({ file, line: i + 1, lang, code, ...(marker ? { notRun: marker[1] } : {}) });
    }
    i = end;
  }
  return blocks;
}

/** Why a block breaks the convention (a shell block neither `sh` nor marked not run), or undefined. */
export function conventionProblem(block: DocBlock): string | undefined {
  if (block.lang === 'sh' || block.notRun) return undefined;
  return `${block.file}:${block.line}: a \`${block.lang}\` block must be \`sh\` (run by the tests) or be preceded by <!-- not run: reason -->`;
}

export interface Expectation {
  status?: number;
  /** A jq filter that must be true of the answer's body. */
  filter?: string;
  /** The expectation as written, for messages. */
  text: string;
}

/** Keys named at the top level of an output shown as `{ "a": 1, b, "c": { … } }`. */
function topLevelKeys(shown: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let quoted = false;
  let part = '';
  const flush = () => {
    const m = /^\s*"?([A-Za-z_$][\w$]*)"?\s*(?::|$)/.exec(part);
    if (m) keys.push(m[1]);
    part = '';
  };
  for (let i = 0; i < shown.length; i++) {
    const c = shown[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      if (depth === 1) part += c;
      continue;
    }
    if (c === '"') quoted = true;
    if (c === '{' || c === '[') {
      depth++;
      if (depth === 1) continue;
    }
    if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) {
        flush();
        break;
      }
    }
    if (depth === 1 && c === ',') flush();
    else if (depth >= 1) part += c;
  }
  return keys;
}

/** Parses the text after `# →`: an optional status, then an optional shown output. */
export function parseExpectation(text: string): Expectation {
  const m = /^\s*(\d{3})?\s*(.*)$/.exec(text)!;
  const status = m[1] ? Number(m[1]) : undefined;
  const shown = m[2].trim();
  let filter: string | undefined;
  if (shown.startsWith('{')) {
    const keys = topLevelKeys(shown);
    filter = ['type == "object"', ...keys.map((k) => `has(${JSON.stringify(k)})`)].join(' and ');
  } else if (shown.startsWith('[')) {
    filter = 'type == "array"';
  }
  return { status, filter, text: text.trim() };
}

/**
 * The block as run: `__allow <status>` before a command whose expectation names a non-2xx status, and
 * `__expect <status> <filter>` after each expectation. Commands start on lines that are not inside a multi-line
 * quoted string and do not follow a line ending with `\`.
 */
export function instrument(code: string): string {
  const lines = code.split('\n');
  const starts: boolean[] = [];
  /** The comment of each line (from an unquoted `#` that starts a word), or undefined. */
  const comments: (string | undefined)[] = [];
  let inSingle = false;
  let inDouble = false;
  let continued = false;
  for (const line of lines) {
    starts.push(!inSingle && !inDouble && !continued);
    let comment: string | undefined;
    let i = 0;
    for (; i < line.length; i++) {
      const c = line[i];
      if (inSingle) {
        if (c === "'") inSingle = false;
      } else if (inDouble) {
        if (c === '\\') i++;
        else if (c === '"') inDouble = false;
      } else if (c === '\\') i++;
      else if (c === "'") inSingle = true;
      else if (c === '"') inDouble = true;
      else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
        comment = line.slice(i);
        break;
      }
    }
    comments.push(comment);
    continued = !inSingle && !inDouble && comment === undefined && /\\$/.test(line);
  }
  const out: string[] = [];
  let commandStart = 0;
  lines.forEach((line, i) => {
    const onlyComment = comments[i] !== undefined && line.trim() === comments[i].trim();
    if (starts[i] && line.trim() !== '' && !onlyComment) commandStart = out.length;
    const m = comments[i] !== undefined ? /^# →(.*)$/.exec(comments[i]) : null;
    out.push(line);
    if (!m) return;
    const e = parseExpectation(m[1]);
    if (e.status !== undefined && (e.status < 200 || e.status > 299))
      out.splice(commandStart, 0, `__allow ${e.status}`);
    out.push(`__expect ${e.status ?? '-'} ${shellQuote(e.filter ?? 'true')} ${shellQuote(e.text)}`);
  });
  return out.join('\n');
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * What runs before each block: strict mode, the variables of the blocks before it, and `curl` wrapped so that each
 * answer's status and body are kept for `__expect`, and any unexpected non-2xx fails the block.
 */
export const PRELUDE = String.raw`
set -euo pipefail
set -a
[ -f "$DOCS_STATE/env" ] && . "$DOCS_STATE/env"
set +a
curl() {
  local allowed=""
  [ -f "$DOCS_STATE/allow" ] && allowed=$(cat "$DOCS_STATE/allow") && rm -f "$DOCS_STATE/allow"
  rm -f "$DOCS_STATE/body"
  local to_file=""
  for arg in "$@"; do case "$arg" in -o|-O|-OJ|-JO|--output|--remote-name) to_file=1 ;; esac; done
  if [ -n "$to_file" ]; then
    command curl -sS -D "$DOCS_STATE/headers" "$@"
  else
    command curl -sS -D "$DOCS_STATE/headers" "$@" | tee "$DOCS_STATE/body"
  fi
  local status
  status=$(grep -E '^HTTP/' "$DOCS_STATE/headers" | tail -n 1 | awk '{print $2}')
  echo "$status" > "$DOCS_STATE/status"
  if [ "$status" != "$allowed" ] && { [ "$status" -lt 200 ] || [ "$status" -gt 299 ]; }; then
    echo >&2
    echo "curl $* answered $status" >&2
    [ -f "$DOCS_STATE/body" ] && head -c 2000 "$DOCS_STATE/body" >&2
    return 22
  fi
}
__allow() { echo "$1" > "$DOCS_STATE/allow"; }
__expect() {
  local status; status=$(cat "$DOCS_STATE/status")
  if [ "$1" != "-" ] && [ "$status" != "$1" ]; then
    echo "expected $3 but the status was $status" >&2; return 1
  fi
  if [ "$2" != "true" ] && ! jq -e "$2" "$DOCS_STATE/body" >/dev/null; then
    echo "expected $3 but the answer was:" >&2; head -c 2000 "$DOCS_STATE/body" >&2; return 1
  fi
}
`;

/** What runs after each block: its variables are kept for the next blocks of the page. */
export const POSTLUDE = String.raw`
set | grep -E '^[A-Za-z_][A-Za-z0-9_]*=' | grep -v -E '^(BASH|SHLVL|PWD|OLDPWD|PIPESTATUS|FUNCNAME|GROUPS|PPID|UID|EUID|SHELLOPTS|BASHOPTS|IFS|PS[0-9]|LINENO|RANDOM|SECONDS|HOSTNAME|HOSTTYPE|MACHTYPE|OSTYPE|OPTERR|OPTIND|COLUMNS|LINES|_)' > "$DOCS_STATE/env.next" || true
mv "$DOCS_STATE/env.next" "$DOCS_STATE/env"
`;

/** Every metric name in every PromQL expression of a Grafana dashboard (panels, rows, template variables). */
export function dashboardMetricNames(dashboard: unknown): string[] {
  const expressions: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'expr' || k === 'query') && typeof v === 'string') expressions.push(v);
      else if (k === 'definition' && typeof v === 'string') expressions.push(v);
      else walk(v);
    }
  };
  walk(dashboard);
  const names = new Set<string>();
  for (const expr of expressions)
    for (const m of expr
      .replace(/"(?:[^"\\]|\\.)*"/g, '""')
      .replace(/\[[^\]]*\]/g, '')
      .matchAll(/\bplexus_[a-zA-Z0-9_:]*/g))
      names.add(m[0]);
  return [...names].sort();
}
