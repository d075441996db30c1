import { isIPv4, isIPv6 } from 'node:net';

/**
 * Truncates an IP address the way analytics tools anonymise it: the last octet of an IPv4 address and the
 * last 80 bits of an IPv6 address are zeroed (an IPv4-mapped IPv6 address is truncated as IPv4). Returns
 * undefined for anything that is not an IP address, so garbage is never stored as one.
 *
 * @example truncateIp('203.0.113.77')            // '203.0.113.0'
 * @example truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348') // '2001:db8:85a3::'
 */
export function truncateIp(raw: string): string | undefined {
  const ip = raw.trim();
  if (isIPv4(ip)) return ip.replace(/\.\d+$/, '.0');
  if (!isIPv6(ip)) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `::ffff:${truncateIp(mapped[1])}`;
  const groups = expandIpv6(ip);
  // 128 − 80 = 48 bits kept: the first three 16-bit groups.
  return compressIpv6([...groups.slice(0, 3), 0, 0, 0, 0, 0]);
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail becomes two groups). */
function expandIpv6(ip: string): number[] {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** RFC 5952 text form: lower-case, the longest run of zero groups (two or more) shortened to `::`. */
function compressIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
