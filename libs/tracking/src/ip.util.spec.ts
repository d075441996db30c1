import { truncateIp } from './ip.util.js';

describe('truncateIp', () => {
  it('zeroes the last IPv4 octet', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0');
    expect(truncateIp(' 10.1.2.255 ')).toBe('10.1.2.0');
  });

  it('zeroes the last 80 bits of IPv6, in canonical form', () => {
    expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(truncateIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::');
    expect(truncateIp('fe80::1')).toBe('fe80::');
    expect(truncateIp('2001:db8:1:2::')).toBe('2001:db8:1::');
    expect(truncateIp('1:2:3:4:5:6:7:8')).toBe('1:2:3::');
  });

  it('truncates IPv4-mapped IPv6 as IPv4', () => {
    expect(truncateIp('::ffff:198.51.100.23')).toBe('::ffff:198.51.100.0');
  });

  it('refuses what is not an IP address', () => {
    expect(truncateIp('not-an-ip')).toBeUndefined();
    expect(truncateIp('300.1.1.1')).toBeUndefined();
    expect(truncateIp('')).toBeUndefined();
  });
});
