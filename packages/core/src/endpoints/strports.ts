/**
 * The tokenizer of endpoint strings (Twisted's strports syntax) and the
 * field helpers every endpoint type's parser uses. Pure functions, no I/O.
 *
 * Fields are separated by `:`; within a field the first unescaped `=`
 * separates a name from its value, and a field without one is positional.
 * A backslash escapes the next character, so `interface=\:\:1` is `::1` and
 * `privateKey=a\=b.pem` is `a=b.pem` (quoted on a shell command line, which
 * would otherwise eat the backslashes).
 *
 * Tests: test/endpoints/strports.test.ts
 * @module
 */
import type { TLSVersion } from '../tls-options.js';
import { EndpointError, QUOTING_HINT } from './endpoint-error.js';

/** One `:`-separated field: `name=value`, or a positional value (`name` null). */
export interface Field {
  readonly name: string | null;
  readonly value: string;
}

/** A description's fields after the type, sorted into positional and named ones. */
export interface Fields {
  readonly positional: string[];
  readonly named: Map<string, string>;
}

/**
 * Splits on unescaped colons, and each field at its first unescaped `=`,
 * removing the escapes.
 * @throws EndpointError for a trailing lone backslash.
 */
export function splitFields(description: string): Field[] {
  const fields: Field[] = [];
  let name: string | null = null;
  let current = '';
  for (let i = 0; i < description.length; i++) {
    const char = description.charAt(i);
    if (char === '\\') {
      if (i + 1 >= description.length) {
        throw new EndpointError(
          `endpoint '${description}' ends with a lone backslash; ${QUOTING_HINT}`,
        );
      }
      current += description.charAt(i + 1);
      i++;
    } else if (char === ':') {
      fields.push({ name, value: current });
      name = null;
      current = '';
    } else if (char === '=' && name === null) {
      name = current;
      current = '';
    } else {
      current += char;
    }
  }
  fields.push({ name, value: current });
  return fields;
}

/** Backslash-escapes `\`, `:` and `=` so that `value` is read back as one field value. */
export function escapeEndpointValue(value: string): string {
  return value.replace(/[\\:=]/g, '\\$&');
}

/**
 * Joins a type, positional values and named values into a description that
 * {@link splitFields} reads back as the same fields. Named values that are
 * `undefined` are left out.
 */
export function formatFields(
  type: string,
  positional: readonly string[],
  named: readonly (readonly [string, string | undefined])[] = [],
): string {
  const parts = [type, ...positional.map(escapeEndpointValue)];
  for (const [name, value] of named) {
    if (value !== undefined) parts.push(`${name}=${escapeEndpointValue(value)}`);
  }
  return parts.join(':');
}

/**
 * An integer field, checked to lie in `min..max`.
 * @throws EndpointError naming `what`.
 */
export function parseInteger(
  description: string,
  what: string,
  text: string,
  min: number,
  max: number,
): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new EndpointError(
      `endpoint '${description}': ${what} must be an integer from ${String(min)} to ${String(max)}, got '${text}'`,
    );
  }
  return value;
}

/**
 * Sorts fields into positional and named ones, refusing unknown and repeated
 * names (with the known ones listed, and a near miss suggested).
 * @param unsupported - names Twisted has and Torsion does not, with why.
 */
export function collectFields(
  description: string,
  type: string,
  fields: readonly Field[],
  known: readonly string[],
  unsupported: Readonly<Record<string, string>> = {},
): Fields {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const { name, value } of fields) {
    if (name === null) {
      positional.push(value);
      continue;
    }
    if (!known.includes(name)) {
      const why = Object.hasOwn(unsupported, name) ? unsupported[name] : undefined;
      if (why !== undefined) {
        throw new EndpointError(`endpoint '${description}': ${name}= is not supported: ${why}`);
      }
      const similar = known.find((k) => k.toLowerCase() === name.toLowerCase());
      const hint = similar === undefined ? '' : `; did you mean '${similar}'?`;
      throw new EndpointError(
        `endpoint '${description}': unknown ${type} option '${name}' (known: ${known.join(', ')})${hint}`,
      );
    }
    if (named.has(name))
      throw new EndpointError(`endpoint '${description}': '${name}' given twice`);
    named.set(name, value);
  }
  return { positional, named };
}

/**
 * A named file, or null when absent.
 * @throws EndpointError when present but empty, naming the field.
 */
export function fileField(
  description: string,
  named: ReadonlyMap<string, string>,
  name: string,
): string | null {
  const value = named.get(name);
  if (value === '') {
    throw new EndpointError(`endpoint '${description}': ${name}= needs a file path`);
  }
  return value ?? null;
}

/** `yes`/`no` (and `true`/`false`, `1`/`0`), as Twisted's boolean options. */
export function parseBoolean(
  description: string,
  name: string,
  text: string | undefined,
): boolean | undefined {
  if (text === undefined) return undefined;
  const lower = text.toLowerCase();
  if (['yes', 'true', '1'].includes(lower)) return true;
  if (['no', 'false', '0'].includes(lower)) return false;
  throw new EndpointError(`endpoint '${description}': ${name} must be yes or no, got '${text}'`);
}

/** ALPN protocol names, `alpn=h2,http/1.1`. */
export function parseAlpn(description: string, text: string | undefined): readonly string[] {
  if (text === undefined) return [];
  const names = text.split(',');
  for (const name of names) {
    // ALPN names are 1 to 255 bytes on the wire (RFC 7301).
    if (name === '' || Buffer.byteLength(name) > 255) {
      throw new EndpointError(
        `endpoint '${description}': alpn= must be protocol names of 1 to 255 bytes separated by commas (e.g. alpn=h2,http/1.1), got '${text}'`,
      );
    }
  }
  return names;
}

/** `minVersion=TLSv1.2|TLSv1.3`; TLSv1.2 when absent. */
export function parseMinVersion(description: string, text: string | undefined): TLSVersion {
  if (text === undefined) return 'TLSv1.2';
  const version = (['TLSv1.2', 'TLSv1.3'] as const).find(
    (v) => v.toLowerCase() === text.toLowerCase(),
  );
  if (version === undefined) {
    throw new EndpointError(
      `endpoint '${description}': minVersion must be TLSv1.2 or TLSv1.3 (older versions are not offered), got '${text}'`,
    );
  }
  return version;
}
