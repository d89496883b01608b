/**
 * Which network addresses an outbound fetch may connect to. By default only globally routable unicast addresses:
 * loopback, private (RFC 1918, fc00::/7), link-local, CGNAT (100.64/10), multicast, unspecified, broadcast, reserved
 * and documentation ranges are refused, for IPv4 and IPv6 alike, and IPv6 forms that carry an IPv4 address
 * (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d) are judged by that IPv4 address. Operators add exceptions
 * (their own image store, a hub mirror) by host name or CIDR.
 */
import ipaddr from 'ipaddr.js';

/** A parsed address of either family (ipaddr.js, which also reads every numeric IPv4 spelling: 0x7f000001, 127.1). */
type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Options of `createAddressPolicy`. */
export interface AddressPolicyOptions {
  /**
   * Exceptions, each a host name (`images.example.internal`, matched exactly, case-insensitive) or an IP address or
   * CIDR (`10.1.2.3`, `10.1.0.0/16`, `fd00::/8`). An allowed host's resolved addresses are trusted whatever their
   * range. Default none.
   */
  allow?: readonly string[];
  /** Whether public (globally routable unicast) addresses are allowed. Default true; false = only `allow`. */
  publicInternet?: boolean;
}

/** A compiled policy: `allowsAddress` answers for one resolved address of one host. */
export interface AddressPolicy {
  /** Whether connecting to `address` (an IP literal) is allowed when it was reached through `host`. */
  allowsAddress(address: string, host: string): boolean;
  /** Whether `host` itself is on the allow-list (its addresses are then not range-checked). */
  allowsHost(host: string): boolean;
}

/** Host names that always mean this machine, whatever DNS says (RFC 6761). */
const localNames = /(^|\.)localhost$/;

/** Lower-case, without IPv6 brackets or the root's trailing dot, so `LOCALHOST.` and `localhost` are one name. */
export function normalizeHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.+$/, '');
}

/**
 * Parses an IP literal in any spelling ipaddr.js knows, unwrapping IPv4-mapped and IPv4-compatible IPv6 into the IPv4
 * they name (so `::ffff:127.0.0.1` and `::127.0.0.1` are loopback). Null when `text` is not an address.
 */
export function parseAddress(text: string): Address | null {
  const bare = normalizeHost(text);
  if (!ipaddr.isValid(bare)) return null;
  const parsed = ipaddr.process(bare);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    const compatible = v6.parts.slice(0, 6).every((p) => p === 0) && !(v6.parts[6] === 0 && (v6.parts[7] ?? 0) <= 1);
    if (compatible) return ipaddr.fromByteArray(v6.toByteArray().slice(12));
  }
  return parsed;
}

/**
 * Whether `address` is a globally routable unicast address: IPv4 outside every special range ipaddr.js lists, or
 * IPv6 inside global unicast 2000::/3 and outside its special ranges (documentation, 6to4, Teredo, NAT64 and the other
 * translation prefixes, which can lead back to private IPv4).
 */
export function isPublicAddress(address: Address): boolean {
  if (address.kind() === 'ipv4') return address.range() === 'unicast';
  const v6 = address as ipaddr.IPv6;
  const first = v6.parts[0] ?? 0;
  // 2001:db8::/32 (documentation) is not in ipaddr.js's table; every other special range is.
  const documentation = first === 0x2001 && v6.parts[1] === 0x0db8;
  return first >= 0x2000 && first <= 0x3fff && v6.range() === 'unicast' && !documentation;
}

interface AllowList {
  hosts: Set<string>;
  ranges: [Address, number][];
}

function parseAllowList(entries: readonly string[]): AllowList {
  const list: AllowList = { hosts: new Set(), ranges: [] };
  for (const raw of entries) {
    const entry = normalizeHost(raw.trim());
    const [base = '', bits] = entry.split('/');
    const address = parseAddress(base);
    if (address && (bits === undefined || /^\d{1,3}$/.test(bits))) {
      const max = address.kind() === 'ipv4' ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (prefix > max) throw new Error(`allow-list entry '${raw}': prefix /${prefix} is longer than ${max} bits`);
      list.ranges.push([address, prefix]);
    } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry)) {
      list.hosts.add(entry);
    } else {
      throw new Error(`allow-list entry '${raw}' is neither a host name nor an IP address or CIDR`);
    }
  }
  return list;
}

/** Compiles the policy; throws an Error naming the first allow-list entry that is not a host, address or CIDR. */
export function createAddressPolicy(options: AddressPolicyOptions = {}): AddressPolicy {
  const list = parseAllowList(options.allow ?? []);
  const publicInternet = options.publicInternet ?? true;
  const allowsHost = (host: string): boolean => list.hosts.has(normalizeHost(host));
  return {
    allowsHost,
    allowsAddress(text, host) {
      if (allowsHost(host)) return true;
      const address = parseAddress(text);
      if (!address) return false;
      if (list.ranges.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits))) return true;
      if (localNames.test(normalizeHost(host))) return false;
      return publicInternet && isPublicAddress(address);
    },
  };
}
