/**
 * Bounds for text that echoes untrusted input: error messages, NACK details, log fields. A gRPC
 * status message travels in an HTTP/2 trailer; one much over 64 KB is never delivered (the call
 * hangs, and so does the connection), so every message a client can make us build is capped here.
 */

/** Longest echo of one input value inside a message. */
export const MAX_ECHO_CHARS = 200;
/** Errors listed in one message; the rest are counted. */
export const MAX_LISTED_ERRORS = 20;
/** Longest status message (gRPC details) we send. */
export const MAX_DETAILS_CHARS = 4000;

/** `text` cut to `max` characters, saying how much was cut. */
export function clip(text: string, max = MAX_ECHO_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** At most `max` items, each clipped, then "and K more". */
export function boundedList(items: readonly string[], max = MAX_LISTED_ERRORS, itemChars = MAX_ECHO_CHARS): string[] {
  const shown = items.slice(0, max).map((e) => clip(e, itemChars));
  if (items.length > max) shown.push(`… and ${items.length - max} more`);
  return shown;
}

/** "N errors, <what>:" followed by the bounded list, one per indented line. */
export function errorSummary(errors: readonly string[], what: string): string {
  const n = errors.length;
  return `${n} error${n === 1 ? '' : 's'}, ${what}:\n  ${boundedList(errors).join('\n  ')}`;
}
