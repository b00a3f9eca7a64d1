/**
 * The address an inherited listening socket is bound to, for a reactor that
 * listens on a descriptor it did not bind (systemd socket activation) and
 * whose runtime does not say: Bun's listener on a descriptor reports no
 * address, and Node's none for a UNIX one. Linux tells it without
 * getsockname through /proc: the descriptor's socket inode
 * (/proc/self/fd/N), looked up in /proc/net/tcp, tcp6 or unix. Elsewhere,
 * or when the lookup fails, the answer is `null` and the port reports a
 * wildcard or unnamed address.
 *
 * Tests: test/endpoints/inherited-socket-address.test.ts,
 *   test/endpoints/adopted-port.integration.test.ts
 * @module
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { addressFor, UNIXAddress, type IAddress } from '../address.js';
import type { AdoptedSocketFamily } from '../interfaces.js';

/** The socket inode of descriptor `fd`, or `null`. */
function socketInode(fd: number): string | null {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${String(fd)}`))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The data lines of a /proc/net table, split into columns; none if it cannot be read. */
function table(name: string): string[][] {
  try {
    return readFileSync(`/proc/net/${name}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/));
  } catch {
    return [];
  }
}

/** `0100007F` (a little-endian 32-bit word per 4 bytes, as /proc/net/tcp prints them) → bytes. */
function procBytes(hex: string): number[] {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let i = 6; i >= 0; i -= 2)
      bytes.push(Number.parseInt(hex.slice(word + i, word + i + 2), 16));
  }
  return bytes;
}

/** An IPv6 address in the RFC 5952 form: lower case, the longest run of zero groups as `::`. */
export function formatIPv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not shortened
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

/**
 * The address the listening socket `fd` is bound to: an IP address and port
 * for `INET`/`INET6`, a path (or `'\0name'` abstract name) for `UNIX`.
 * @returns `null` when it cannot be told (not Linux, no /proc, not a socket).
 */
export function inheritedSocketAddress(fd: number, family: AdoptedSocketFamily): IAddress | null {
  const inode = socketInode(fd);
  if (inode === null) return null;
  if (family === 'UNIX') {
    // Num RefCount Protocol Flags Type St Inode Path; an abstract name is shown with '@'.
    for (const columns of table('unix')) {
      if (columns[6] === inode && columns.length > 7) {
        const path = columns.slice(7).join(' ');
        return new UNIXAddress(path.startsWith('@') ? `\0${path.slice(1)}` : path);
      }
    }
    return null;
  }
  // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
  for (const columns of table(family === 'INET6' ? 'tcp6' : 'tcp')) {
    const local = columns[1];
    if (columns[9] !== inode || local === undefined) continue;
    const [hexHost = '', hexPort = ''] = local.split(':');
    const bytes = procBytes(hexHost);
    const host = family === 'INET6' ? formatIPv6(bytes) : bytes.join('.');
    return addressFor('TCP', host, Number.parseInt(hexPort, 16));
  }
  return null;
}
