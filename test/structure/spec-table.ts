/**
 * Cases where the two oracles (ajv, hyperjump) disagree, decided by the words of JSON Schema 2020-12 (Core and
 * Validation, draft-bhutton-json-schema-01 / -validation-01). Each row: schema, instance, verdict, the quoted rule.
 * `agreed()` in oracles.ts consults it; the decoder is also checked against every row directly.
 */
const S2020 = 'https://json-schema.org/draft/2020-12/schema';
const EQUALITY =
  'Validation 6.1.2 enum / 6.1.3 const: "An instance validates successfully against this keyword if its value is equal to one of the elements in this keyword\'s array value." Core 4.2.2: two objects are equal when "each property in one has exactly one property with a key equal to the other\'s, and that other property has an equal value"';

export const SPEC_TABLE: [schema: unknown, instance: unknown, valid: boolean, quote: string][] = [
  [
    JSON.parse(
      '{"$schema":"https://json-schema.org/draft/2020-12/schema","properties":{"__proto__":{"type":"string"}}}',
    ),
    JSON.parse('{"__proto__":1}'),
    false,
    'Core 10.3.2.1 properties: "Validation succeeds if, for each name that appears in both the instance and as a name within this keyword\'s value, the child instance for that name successfully validates against the corresponding schema." (ajv reads data.__proto__ through the accessor and never sees the member)',
  ],
  [
    JSON.parse('{"properties":{"__proto__":{"type":"string"}}}'),
    JSON.parse('{"__proto__":1}'),
    false,
    'Core 10.3.2.1 properties (draft-07 6.5.4 says the same): "the child instance for that name successfully validates against the corresponding schema"',
  ],
  [
    JSON.parse(
      '{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"__proto__":{"type":"integer"}},"required":["__proto__"]}',
    ),
    JSON.parse('{"__proto__":"x"}'),
    false,
    'Core 10.3.2.1 properties: "the child instance for that name successfully validates against the corresponding schema"',
  ],
  [
    JSON.parse(
      '{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"__proto__":{"type":"string"}}}',
    ),
    JSON.parse('{"__proto__":1}'),
    false,
    'Core 10.3.2.1 properties: "the child instance for that name successfully validates against the corresponding schema"',
  ],
  [
    JSON.parse(
      '{"$schema":"https://json-schema.org/draft/2020-12/schema","required":["__proto__"],"allOf":[{"properties":{"__proto__":{"type":"integer"}}},{"properties":{"__proto__":{"minimum":3}}}]}',
    ),
    JSON.parse('{"__proto__":2}'),
    false,
    'Core 10.2.1.1 allOf: "An instance validates successfully against this keyword if it validates successfully against all schemas defined by this keyword\'s value." (2 < minimum 3 in the second member)',
  ],
  // ajv abstains on a `__proto__` member where a pattern could tell it from a stand-in name (see oracles.ts).
  ...(
    [
      ['{"__proto__":1}', true],
      ['{"__proto__":"s"}', false],
    ] as const
  ).map(
    ([instance, valid]) =>
      [
        JSON.parse(
          '{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","patternProperties":{"^__proto__$":{"type":"integer"}},"additionalProperties":false}',
        ),
        JSON.parse(instance),
        valid,
        'Core 10.3.2.2 patternProperties: "Validation succeeds if, for each instance name that matches any regular expressions that appear as a property name in this keyword\'s value, the child instance for that name successfully validates against each schema that corresponds to a matching regular expression."',
      ] as [unknown, unknown, boolean, string],
  ),
  [
    { $schema: S2020, type: 'object', propertyNames: { pattern: '^a' } },
    JSON.parse('{"__proto__":1}'),
    false,
    'Core 10.3.2.4 propertyNames: "If the instance is an object, this keyword validates if every property name in the instance validates against the provided schema." ("__proto__" does not match ^a)',
  ],
  // hyperjump decodes a percent-encoded pointer's UTF-8 octets as Latin-1 and finds nothing there.
  ...(
    [
      ['é', '%C3%A9'],
      ['😀', '%F0%9F%98%80'],
    ] as const
  ).flatMap(([name, encoded]) =>
    (
      [
        [1, true],
        ['s', false],
      ] as const
    ).map(
      ([instance, valid]) =>
        [
          { $schema: S2020, $defs: { [name]: { type: 'integer' } }, $ref: `#/$defs/${encoded}` },
          instance,
          valid,
          'RFC 6901 section 6: a JSON Pointer in a URI fragment is "encoded into octets using UTF-8, while percent-encoding those characters not allowed by the fragment rule"; Core 8.2.3.1 $ref: the referenced schema applies to the instance',
        ] as [unknown, unknown, boolean, string],
    ),
  ),
  // ajv's deep equality calls an object's own `valueOf`/`toString` when they differ from Object.prototype's, so an
  // object with a member of that name is never equal to anything; the rule is the same for every name.
  ...['toString', 'valueOf', 'constructor'].flatMap((name) =>
    (
      [
        [{ $schema: S2020, enum: [{ [name]: 1 }] }, { [name]: 1 }],
        [{ $schema: S2020, const: { [name]: [1] } }, { [name]: [1] }],
      ] as const
    ).map(([schema, instance]) => [schema, instance, true, EQUALITY] as [unknown, unknown, boolean, string]),
  ),
];

const byKey = new Map(SPEC_TABLE.map(([schema, instance, valid]) => [JSON.stringify([schema, instance]), valid]));

/**
 * Rules that decide a whole class of cases, each a certain consequence of one keyword whatever its siblings say
 * (the keywords of a schema object all apply: Core 7.6 "evaluation … of all keywords").
 */
export const SPEC_RULES: {
  name: string;
  valid: boolean;
  quote: string;
  applies: (schema: unknown, instance: unknown) => boolean;
}[] = [
  {
    name: 'required [""] on an object without the empty name',
    valid: false,
    quote:
      'Validation 6.5.3 required: "An object instance is valid against this keyword if every item in the array is the name of a property in the instance." (ajv treats the empty name as always present)',
    applies: (schema, instance) =>
      isObject(schema) &&
      Array.isArray(schema.required) &&
      schema.required.includes('') &&
      isObject(instance) &&
      !Object.hasOwn(instance, ''),
  },
];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The table's verdict for (schema, instance), or undefined when neither a row nor a rule decides it. */
export function specVerdict(schema: unknown, instance: unknown): boolean | undefined {
  return byKey.get(JSON.stringify([schema, instance])) ?? SPEC_RULES.find((r) => r.applies(schema, instance))?.valid;
}
