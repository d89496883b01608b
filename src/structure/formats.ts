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
const URI_CHARS = "[a-zA-Z0-9._~!$&'()*+,;=:@-]|%[0-9a-fA-F]{2}";

/** Format name → [anchored pattern, max length or undefined]. */
export const FORMATS: Readonly<Record<string, readonly [string, number | undefined]>> = {
  date: [`^${DATE}$`, undefined],
  time: [`^${TIME}$`, undefined],
  'date-time': [`^${DATE}[Tt]${TIME}$`, undefined],
  duration: [`^P(?:${DUR_DATE}(?:T${DUR_TIME})?|T${DUR_TIME}|\\d+W)$`, undefined],
  email: [`^[a-zA-Z0-9!#$%&'*+/=?^_\`{|}~-]+(?:\\.[a-zA-Z0-9!#$%&'*+/=?^_\`{|}~-]+)*@(?:${LABEL}\\.)+${LABEL}$`, undefined],
  hostname: [`^${LABEL}(?:\\.${LABEL})*$`, 253],
  ipv4: [`^${OCTET}(?:\\.${OCTET}){3}$`, undefined],
  ipv6: [`^(?:${IPV6})$`, undefined],
  byte: ['^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$', undefined],
  uuid: ['^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$', undefined],
  uri: [
    `^[a-zA-Z][a-zA-Z0-9+.-]*:(?://(?:${URI_CHARS})+(?:/(?:${URI_CHARS})*)*|/?(?:${URI_CHARS})+(?:/(?:${URI_CHARS})*)*|/)?` +
      `(?:\\?(?:${URI_CHARS}|[/?])*)?(?:#(?:${URI_CHARS}|[/?])*)?$`,
    undefined,
  ],
};
