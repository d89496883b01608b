/**
 * `format` values enforced as regular languages. Each pattern accepts a subset of what ajv-formats' "full" mode
 * accepts (stricter where full mode needs arithmetic, e.g. leap seconds), so a generated value always validates.
 * The second field bounds the length where the format's definition does (hostnames).
 */
const LEAP_YEAR = '(?:\\d\\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)';
const DATE =
  `(?:\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))` +
  `|${LEAP_YEAR}-02-29)`;
const TIME = `(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:[zZ]|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?)`;
const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?';
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const H16 = '[0-9a-fA-F]{1,4}';
/** Eight groups, or `::` standing for at least one zero group with at most seven written around it. */
const IPV6 = [
  `(?:${H16}:){7}${H16}`,
  ...[0, 1, 2, 3, 4, 5, 6].map((n) => {
    const right = 6 - n === 0 ? '' : `(?:${H16}(?::${H16}){0,${5 - n}})?`;
    return `(?:(?:${H16}:){0,${n}}${H16})?::${right}`;
  }),
].join('|');
const DUR_TIME = '(?:\\d+H(?:\\d+M)?(?:\\d+S)?|\\d+M(?:\\d+S)?|\\d+S)';
const DUR_DATE = '(?:\\d+Y(?:\\d+M)?(?:\\d+D)?|\\d+M(?:\\d+D)?|\\d+D)';
const PCT = '%[0-9a-fA-F]{2}';
/** RFC 3986 pchar; userinfo and reg-name characters (host names here: no IP literals, a subset). */
const URI_CHARS = `[a-zA-Z0-9._~!$&'()*+,;=:@-]|${PCT}`;
const USERINFO = `[a-zA-Z0-9._~!$&'()*+,;=:-]|${PCT}`;
const REG_NAME = `[a-zA-Z0-9._~!$&'()*+,;=-]|${PCT}`;
const SCHEME = '[a-zA-Z][a-zA-Z0-9+.-]*:';
const SEGMENTS = `(?:/(?:${URI_CHARS})*)*`;
/** `//authority path` or an absolute path: the forms a hier-part and a relative-part share. */
const ROOTED = `//(?:(?:${USERINFO})*@)?(?:${REG_NAME})*(?::[0-9]*)?${SEGMENTS}|/(?:(?:${URI_CHARS})+${SEGMENTS})?`;
/** hier-part (after a scheme): a rooted form or a rootless path. */
const HIER = `${ROOTED}|(?:${URI_CHARS})+${SEGMENTS}`;
/** relative-part: a rooted form or a path whose first segment has no `:` (else it would read as a scheme). */
const RELATIVE = `${ROOTED}|(?:[a-zA-Z0-9._~!$&'()*+,;=@-]|${PCT})+${SEGMENTS}`;
const QUERY_FRAGMENT = `(?:\\?(?:${URI_CHARS}|[/?])*)?(?:#(?:${URI_CHARS}|[/?])*)?`;
/** ajv-formats' url host branch: dotted labels of letters, digits and non-ASCII, ending in a 2+ letter TLD. */
const URL_LABEL = '(?:[a-zA-Z0-9\\u00a1-\\uffff]+-)*[a-zA-Z0-9\\u00a1-\\uffff]+';
const JSON_POINTER = '(?:/(?:[^~/]|~0|~1)*)*';

/** Format name → [anchored pattern, max length or undefined]. */
export const FORMATS: Readonly<Record<string, readonly [string, number | undefined]>> = {
  date: [`^${DATE}$`, undefined],
  time: [`^${TIME}$`, undefined],
  'date-time': [`^${DATE}[Tt]${TIME}$`, undefined],
  duration: [`^P(?:${DUR_DATE}(?:T${DUR_TIME})?|T${DUR_TIME}|\\d+W)$`, undefined],
  email: [
    `^[a-zA-Z0-9!#$%&'*+/=?^_\`{|}~-]+(?:\\.[a-zA-Z0-9!#$%&'*+/=?^_\`{|}~-]+)*@(?:${LABEL}\\.)+${LABEL}$`,
    undefined,
  ],
  hostname: [`^${LABEL}(?:\\.${LABEL})*$`, 253],
  ipv4: [`^${OCTET}(?:\\.${OCTET}){3}$`, undefined],
  ipv6: [`^(?:${IPV6})$`, undefined],
  byte: ['^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$', undefined],
  uuid: ['^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$', undefined],
  uri: [`^${SCHEME}(?:${HIER})${QUERY_FRAGMENT}$`, undefined],
  'uri-reference': [`^(?:${SCHEME}(?:${HIER})?|(?:${RELATIVE})?)${QUERY_FRAGMENT}$`, undefined],
  url: [
    `^(?:https?|ftp)://${URL_LABEL}(?:\\.${URL_LABEL})*\\.[a-zA-Z\\u00a1-\\uffff]{2,}(?::[0-9]{2,5})?(?:/\\S*)?$`,
    undefined,
  ],
  'json-pointer': [`^${JSON_POINTER}$`, undefined],
  'relative-json-pointer': [`^(?:0|[1-9][0-9]*)(?:#|${JSON_POINTER})$`, undefined],
  'json-pointer-uri-fragment': [`^#(?:/(?:[a-zA-Z0-9_.!$&'()*+,;:=@-]|${PCT}|~0|~1)*)*$`, undefined],
};
