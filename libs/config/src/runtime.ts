/** The Node.js release line Plexus is developed and tested on first (the current LTS). */
export const LTS_MAJOR = 24;
/** The oldest release line still supported upstream; older ones are past their end of life. */
const OLDEST_MAINTAINED_MAJOR = 22;

/**
 * Checks the running Node.js once at start-up. On a release past its end of life it returns one line saying
 * what to do, and quiets the notices dependencies print about the same thing (the AWS SDK's would otherwise
 * land in the middle of the output, long after start-up), so the advice is given once, where it can be acted on.
 */
export function checkNodeRuntime(
  version: string = process.version,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (!Number.isFinite(major) || major >= OLDEST_MAINTAINED_MAJOR) return undefined;
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return `Node.js ${version} is past its end of life: Plexus runs on it, but install Node.js ${LTS_MAJOR} (the current LTS) for security fixes.`;
}
