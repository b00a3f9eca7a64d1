/**
 * Which characters finger lets through, in one place: the query parser
 * refuses them in a query, and the reply filter replaces them, visibly, in
 * what it sends or prints. Neither ever removes a character silently, which
 * would turn one name into another (`ali<NEL>ce` into `alice`).
 *
 * Tests: test/query.test.ts, test/reply.test.ts
 * @module
 */

/**
 * Control characters a terminal may act on (RFC 1288 §3.3): C0 but TAB, CR
 * and LF, DEL, and C1 (U+0080–U+009F: NEL, CSI, OSC…, which some terminals
 * obey as 8-bit escapes). CR and LF end lines and TAB lays them out, so text
 * keeps those.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const TEXT_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

/**
 * Bidirectional embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069), and the line and paragraph separators U+2028/U+2029: they
 * reorder or hide what follows them on the reader's screen ("Trojan Source",
 * CVE-2021-42574). The weak marks LRM, RLM and ALM, which right-to-left text
 * needs and which cannot reorder a whole run, are kept.
 */
export const TEXT_REORDERING = /[\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Control characters in a query line: all but TAB, which separates `/W` from
 * the name as a space does. (CRLF ends the line before the parser sees it, so
 * a CR or LF here is a stray one.)
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const QUERY_CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * Every control character, TAB included: in a name, TAB or a line break is
 * never part of it.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const NAME_CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Characters that show as nothing, or as a plain space, so that a name
 * holding one looks like another name: format characters (`Cf`: zero-width
 * space and joiners, soft hyphen, BOM, bidi controls, tags), the rest of
 * Unicode's default-ignorable code points (variation selectors, Hangul
 * fillers), line and paragraph separators, every space other than U+0020
 * (no-break, hair, ideographic…), and lone surrogates.
 */
export const NAME_INVISIBLE =
  /[\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]|(?! )\p{Zs}/gu;

/** What replaces a character the filters do not let through: visible, and never part of a name. */
export const REPLACEMENT = '\uFFFD';

/** True if `pattern` (a global regular expression) matches anywhere in `text`. */
export function contains(text: string, pattern: RegExp): boolean {
  // A global expression's test() starts from lastIndex; search() always starts at 0.
  return text.search(pattern) >= 0;
}
