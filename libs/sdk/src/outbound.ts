import { realpathSync } from 'node:fs';
import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { resolve, sep } from 'node:path';
import ipaddr from 'ipaddr.js';
import { ConfigurationError } from './errors.js';

/**
 * What connectors may reach. Outbound connections to loopback, link-local (cloud metadata), private,
 * carrier-grade NAT, multicast and reserved addresses are refused unless `allow` lists them; local files are
 * readable only inside `readableDirs`. The hub sets the policy once per process from `OUTBOUND_ALLOW` and
 * `IMPORT_DIRS` ({@link configureOutbound}); every HTTP client, S3 reader and file reader of the SDK applies it.
 */
export interface OutboundPolicy {
  /** Allowed destinations: host names (`emulator.local`), IPs, CIDRs (`10.0.0.0/8`) and `host:port` pairs. */
  allow: string[];
  /** Folders local paths may be read from (symlinks and `..` resolved first); undefined = any path. */
  readableDirs?: string[];
  /** Folders never readable, even inside a readable folder (the hub's `DATA_DIR`). */
  unreadableDirs?: string[];
}

interface AllowRule {
  host?: string;
  range?: [ipaddr.IPv4 | ipaddr.IPv6, number];
  port?: number;
}

interface CompiledPolicy {
  guarded: boolean;
  rules: AllowRule[];
  readableDirs?: string[];
  unreadableDirs: string[];
}

let current: CompiledPolicy = { guarded: false, rules: [], unreadableDirs: [] };

/**
 * Parses an allow list; returns the entries that are not a host name, an IP, a CIDR or one of those with a port.
 *
 * @example outboundAllowProblems(['127.0.0.1', '10.0.0.0/8', 'minio:9000', 'bad host']) // ['bad host']
 */
export function outboundAllowProblems(entries: string[]): string[] {
  return entries.filter((entry) => parseRule(entry) === undefined);
}

/**
 * Sets the process-wide outbound policy (the hub calls it at start from its environment). Before any call
 * the SDK reaches every address and reads every path, as a plain library does.
 *
 * @example configureOutbound({ allow: ['127.0.0.1', 'minio:9000'], readableDirs: ['/srv/imports'], unreadableDirs: ['/var/lib/plexus'] });
 */
export function configureOutbound(policy: OutboundPolicy): void {
  const rules = policy.allow.map((entry) => {
    const rule = parseRule(entry);
    if (!rule) throw new Error(`invalid outbound allow entry '${entry}'`);
    return rule;
  });
  current = {
    guarded: true,
    rules,
    // Both spellings of each folder: as configured (paths are checked as written first) and resolved.
    readableDirs: policy.readableDirs?.flatMap((dir) => bothForms(dir)),
    unreadableDirs: (policy.unreadableDirs ?? []).flatMap((dir) => bothForms(dir)),
  };
}

function bothForms(dir: string): string[] {
  const resolved = resolve(dir);
  try {
    const real = realpathSync(dir);
    return real === resolved ? [real] : [resolved, real];
  } catch {
    return [resolved];
  }
}

function parseRule(raw: string): AllowRule | undefined {
  const entry = raw.trim().toLowerCase();
  if (entry === '') return undefined;
  let host = entry;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    host = bracketed[1];
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if (/^[^:]+:\d+$/.test(entry)) {
    const at = entry.lastIndexOf(':');
    host = entry.slice(0, at);
    port = Number(entry.slice(at + 1));
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) return undefined;
  if (host.includes('/')) {
    try {
      return { range: ipaddr.parseCIDR(host), port };
    } catch {
      return undefined;
    }
  }
  if (ipaddr.isValid(host)) {
    const address = normalise(ipaddr.parse(host));
    return { range: [address, address.kind() === 'ipv4' ? 32 : 128], port };
  }
  if (!/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/.test(host))
    return undefined;
  return { host: host.replace(/\.$/, ''), port };
}

function normalise(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

/** Why connecting to `ip` (reached as `host:port`) is refused, or undefined when it is allowed. */
export function outboundRefusal(host: string, ip: string, port: number): string | undefined {
  if (!current.guarded) return undefined;
  const name = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = normalise(ipaddr.parse(ip));
  } catch {
    return `${ip} is not an IP address`;
  }
  const range = address.range();
  if (range === 'unicast') return undefined;
  for (const rule of current.rules) {
    if (rule.port !== undefined && rule.port !== port) continue;
    if (rule.host !== undefined && rule.host === name) return undefined;
    if (rule.range && rule.range[0].kind() === address.kind() && address.match(rule.range)) return undefined;
  }
  return `${name} resolves to a ${range} address, which connectors may not reach (allow it with OUTBOUND_ALLOW)`;
}

/** The error a refused connection fails with: a configuration problem, worded the same for every port. */
export class OutboundRefusedError extends ConfigurationError {
  readonly code = 'EOUTBOUNDREFUSED';
}

function guardedLookup(host: string, port: number): LookupFunction {
  return ((hostname: string, options: LookupAllOptions, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      for (const { address } of addresses) {
        const refusal = outboundRefusal(host, address, port);
        if (refusal) return callback(new OutboundRefusedError(refusal));
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  }) as LookupFunction;
}

/** Options every guarded connection is made with. */
export interface ConnectionLimits {
  /** How long the TCP (and TLS) connection may take. Default 10 s. */
  connectTimeoutMs?: number;
}

type ConnectionOptions = { host?: string; hostname?: string; port?: number | string; lookup?: LookupFunction };

/** Checks an IP-literal host now (no lookup happens for it) and checks names on their resolved addresses. */
function guard<O extends ConnectionOptions>(options: O, defaultPort: number): O {
  const host = options.hostname ?? options.host ?? 'localhost';
  const port = Number(options.port ?? defaultPort);
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) {
    const refusal = outboundRefusal(bare, bare, port);
    if (refusal) throw new OutboundRefusedError(refusal);
    return options;
  }
  return { ...options, lookup: guardedLookup(host, port) };
}

function limitConnect(socket: Socket, connectTimeoutMs: number): Socket {
  const timer = setTimeout(() => {
    socket.destroy(Object.assign(new Error(`connect timed out after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
  }, connectTimeoutMs);
  timer.unref();
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('secureConnect', clear);
  socket.once('close', clear);
  return socket;
}

class GuardedHttpAgent extends HttpAgent {
  constructor(
    options: AgentOptions,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }

  override createConnection(options: ConnectionOptions, callback?: (error: Error | null, socket: Socket) => void) {
    const create = HttpAgent.prototype.createConnection.bind(this) as (o: unknown, c?: unknown) => Socket;
    return limitConnect(create(guard(options, 80), callback), this.connectTimeoutMs);
  }
}

class GuardedHttpsAgent extends HttpsAgent {
  constructor(
    options: AgentOptions,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }

  override createConnection(options: ConnectionOptions, callback?: (error: Error | null, socket: Socket) => void) {
    const create = HttpsAgent.prototype.createConnection.bind(this) as (o: unknown, c?: unknown) => Socket;
    return limitConnect(create(guard(options, 443), callback), this.connectTimeoutMs);
  }
}

/**
 * http and https agents that apply the outbound policy at connect time — on the resolved address, so a DNS
 * name that later resolves elsewhere (rebinding) is checked again — and bound the connect phase.
 *
 * @example
 * ```ts
 * const { httpAgent, httpsAgent } = createGuardedAgents({ connectTimeoutMs: 5000 });
 * await axios.get(url, { httpAgent, httpsAgent });
 * ```
 */
export function createGuardedAgents(limits: ConnectionLimits = {}): { httpAgent: HttpAgent; httpsAgent: HttpsAgent } {
  const connectTimeoutMs = limits.connectTimeoutMs ?? 10_000;
  return {
    httpAgent: new GuardedHttpAgent({ keepAlive: true }, connectTimeoutMs),
    httpsAgent: new GuardedHttpsAgent({ keepAlive: true }, connectTimeoutMs),
  };
}

const grants = new WeakMap<AbortSignal, Set<string>>();

/**
 * Lets readers given `signal` open one file outside the import folders: the hub grants a run the upload it
 * spooled for it (under `DATA_DIR`, which no configured path may reach). Ends with the signal's life.
 *
 * @example grantRead(run.signal, '/var/lib/plexus/uploads/src_1/1700000000-ab12.upload');
 */
export function grantRead(signal: AbortSignal, path: string): void {
  const set = grants.get(signal) ?? new Set<string>();
  set.add(resolve(path));
  grants.set(signal, set);
}

/**
 * Throws a `ConfigurationError` unless the policy lets connectors read `path` (resolved through symlinks and
 * `..` first) or a run's `signal` was granted it ({@link grantRead}); returns the resolved path, which is what
 * must then be opened.
 *
 * @example const real = assertReadablePath('/srv/imports/crm.csv');
 */
export function assertReadablePath(path: string, signal?: AbortSignal): string {
  const granted = signal ? grants.get(signal) : undefined;
  if (granted?.has(resolve(path))) return resolve(path);
  // The path as written is checked first, so a refused path never tells whether it exists.
  if (!isReadable(resolve(path))) throw outside(path);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    throw new ConfigurationError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code}): check the path`);
  }
  if (isReadable(real)) return real;
  throw outside(path);
}

function outside(path: string): ConfigurationError {
  return new ConfigurationError(`${path} is outside the import folders: put the file in one of IMPORT_DIRS`);
}

function isReadable(real: string): boolean {
  if (!current.guarded || current.readableDirs === undefined) return true;
  // A readable folder inside an unreadable one (DATA_DIR/imports in DATA_DIR) opens only itself.
  const allowed = current.readableDirs.some(
    (dir) =>
      within(real, dir) &&
      current.unreadableDirs.every((closed) => !within(real, closed) || (dir !== closed && within(dir, closed))),
  );
  return allowed;
}

/** True when `path` is `dir` or inside it. */
function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}
