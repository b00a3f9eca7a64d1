/**
 * IP addresses as text and as bytes, and CIDR ranges: what the PROXY header
 * carries (v1 as text, v2 as bytes) and what the trust list matches. Pure;
 * no socket is involved.
 *
 * Tests: test/ip.test.ts
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The 4 bytes of a dotted-quad IPv4 literal, or `null` if `text` is not one. */
export function parseIPv4(text: string): Uint8Array | null {
  if (!isIPv4(text)) return null;
  return Uint8Array.from(text.split('.').map(Number));
}

/** The 16 bytes of an IPv6 literal (no zone, no brackets), or `null`. */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.includes('%') || !isIPv6(text)) return null;
  let head = text;
  let tail4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = parseIPv4(text.slice(lastColon + 1));
    if (tail4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  const groups = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const words =
    halves.length === 2
      ? [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right]
      : left;
  if (words.length !== 8) return null;
  const out = new Uint8Array(16);
  words.forEach((word, i) => {
    out[i * 2] = word >> 8;
    out[i * 2 + 1] = word & 0xff;
  });
  if (tail4 !== null) out.set(tail4, 12);
  return out;
}

/** Dotted-quad text of 4 bytes. */
export function formatIPv4(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

/**
 * RFC 5952 text of 16 bytes, as the kernel (and so `getPeer()`) reports it:
 * lower case, the longest run of two or more zero groups as `::`, and an
 * IPv4-mapped address as `::ffff:a.b.c.d`.
 */
export function formatIPv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes.subarray(12))}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}

/**
 * The bytes of an IP literal; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`)
 * counts as its IPv4 address, so one trust rule covers a dual-stack socket's
 * view of an IPv4 peer. `null` for anything else.
 */
export function ipBytes(text: string): Uint8Array | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return v4;
  const v6 = parseIPv6(text.split('%')[0] ?? text);
  if (v6 === null) return null;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

/** A CIDR range: an address and how many leading bits of it must match. */
export interface CIDR {
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly text: string;
}

/**
 * Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a /32 or /128).
 * @throws RangeError naming `field` and the text when it is not one.
 */
export function parseCIDR(text: string, field = 'cidr'): CIDR {
  const slash = text.indexOf('/');
  const host = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseIPv4(host) ?? parseIPv6(host);
  if (bytes === null) {
    throw new RangeError(
      `${field}: '${text}' is not an IP address or CIDR range (a.b.c.d/n or x::y/n)`,
    );
  }
  const max = bytes.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    prefix = /^(0|[1-9][0-9]{0,2})$/.test(bits) ? Number(bits) : NaN;
    if (!(prefix <= max)) {
      throw new RangeError(`${field}: '${text}' has a prefix length that is not 0..${String(max)}`);
    }
  }
  // A mapped range (::ffff:10.0.0.0/104) is the IPv4 range it stands for.
  if (bytes.length === 16 && isMapped(bytes) && prefix >= 96) {
    return { bytes: bytes.slice(12), prefix: prefix - 96, text };
  }
  return { bytes, prefix, text };
}

function isMapped(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Whether the IP literal `host` lies in `range` (IPv4-mapped IPv6 as IPv4). */
export function cidrContains(range: CIDR, host: string): boolean {
  const bytes = ipBytes(host);
  if (bytes?.length !== range.bytes.length) return false;
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}
