import { CompileError, childPointer } from './errors.js';
import type { Limits } from './limits.js';
import { ArrayMachine, LeafMachine, UnionMachine, type Machine } from './machine.js';
import { ObjectMachine } from './object-machine.js';
import { buildObjectMachine } from './object-schema.js';
import { applyUnevaluated } from './merge-applicators.js';
import { rewriteConditional, rewriteDependentSchemas } from './conditional.js';
import { buildContainsArray } from './contains-machine.js';
import { finiteDomain, validMembers } from './finite-domain.js';
import {
  applyNot,
  flatten,
  hasValidation,
  typeList,
  Unsatisfiable,
  UNSUPPORTED,
  type SchemaObject,
} from './schema-merge.js';
import { resolveRef } from './schema-refs.js';
import { numberLeaf, stringLeaf } from './leaf-factory.js';
import {
  assertDisjoint,
  buildArrayMachine,
  filterByRest,
  literalLeaf,
  numberFromSchema,
  PendingError,
  stringFromSchema,
} from './compile-parts.js';

/** Deepest nesting of subschemas built inline. */
const MAX_SCHEMA_DEPTH = 200;

/** Builds machines for one schema document. Machines for `$ref` targets are shared, which is how recursion works. */
export class SchemaBuilder {
  private readonly refs = new Map<string, number>();
  private anyValue = -1;
  private depth = 0;

  /** `machines` may be shared with other builders (tool calls put several argument schemas in one grammar). */
  constructor(
    /** The schema document `$ref`s resolve against. */
    readonly root: unknown,
    private readonly ws: number,
    private readonly order: 'schema' | 'any',
    readonly limits: Limits,
    private readonly machines: (Machine | undefined)[] = [],
  ) {}

  /** The machines so far, with not-yet-built `$ref` targets as placeholders that throw PendingError. */
  snapshot(): Machine[] {
    return this.machines.map((m) => m ?? PENDING);
  }

  /** All machines, checked complete. */
  finish(): Machine[] {
    return this.machines.map((m, i) => {
      if (!m) throw new CompileError('$ref', '', `reference cycle without content (machine ${i})`);
      return m;
    });
  }

  /** Adds a machine, returning its id. */
  add(machine: Machine): number {
    this.machines.push(machine);
    return this.machines.length - 1;
  }

  /** Machine id for `schema` at `pointer`; throws Unsatisfiable when no value fits. */
  build(schema: unknown, pointer: string): number {
    // Recursion through allOf/anyOf merges (not through $ref machines) would otherwise unroll without end.
    if (++this.depth > MAX_SCHEMA_DEPTH)
      throw new CompileError(
        '$ref',
        pointer,
        `schema nests deeper than ${MAX_SCHEMA_DEPTH} levels (recursion through allOf/anyOf?)`,
      );
    try {
      return this.buildAt(schema, pointer);
    } catch (e) {
      // An automaton over its state budget (or any other size limit below) is the schema's fault: a 400, not a 500.
      if (e instanceof RangeError) throw new CompileError(limitKeyword(schema), pointer, e.message);
      throw e;
    } finally {
      this.depth--;
    }
  }

  private buildAt(schema: unknown, pointer: string): number {
    const mark = { machines: this.machines.length, refs: this.refs.size };
    try {
      return this.buildExact(schema, pointer);
    } catch (e) {
      const domain = e instanceof CompileError ? finiteDomain(this.root, schema) : null;
      if (!domain) throw e;
      this.forget(mark);
      const kept = validMembers(this.root, domain, schema, pointer);
      if (kept.length === 0) throw new Unsatisfiable('no listed value satisfies the schema');
      return this.buildObject({ enum: kept }, pointer);
    }
  }

  /** Drops what a failed build left behind: its `$ref` entries (rebuilt on next use) and unfinished placeholders. */
  private forget(mark: { machines: number; refs: number }): void {
    // Entries are only ever added, so the ones made since the mark are the last in insertion order.
    for (const key of [...this.refs.keys()].slice(mark.refs)) this.refs.delete(key);
    for (let i = mark.machines; i < this.machines.length; i++) this.machines[i] ??= new UnionMachine([]);
  }

  /** The keyword-by-keyword build; a CompileError here may still be resolved over a finite domain (`buildAt`). */
  private buildExact(schema: unknown, pointer: string): number {
    if (schema !== null && typeof schema === 'object' && !Array.isArray(schema)) {
      const s = schema as SchemaObject;
      if (typeof s.$ref === 'string' && !hasValidation(withoutRef(s))) return this.ref(s.$ref, pointer);
    }
    const flat = flatten(this.root, schema, pointer);
    if (flat === true) return this.any();
    if (flat === false) throw new Unsatisfiable('false schema');
    return this.buildObject(applyNot(this.root, flat, pointer), pointer);
  }

  private ref(ref: string, pointer: string): number {
    const target = resolveRef(this.root, ref, pointer);
    const known = this.refs.get(target.pointer);
    if (known !== undefined) return known;
    const id = this.machines.length;
    this.machines.push(undefined);
    this.refs.set(target.pointer, id);
    const built = this.build(target.schema, target.pointer);
    if (built === id) throw new CompileError('$ref', pointer, 'reference resolves to itself');
    // Share the machine object under the reserved id: callers already hold that id.
    this.machines[id] = this.machines[built];
    return id;
  }

  /** The machine for any JSON value (`true`, `{}`). */
  any(): number {
    if (this.anyValue >= 0) return this.anyValue;
    const id = this.add(new UnionMachine([]));
    this.anyValue = id;
    const obj = this.add(
      new ObjectMachine(
        {
          properties: [],
          dependencies: [],
          patterns: [],
          additional: { key: stringLeaf(null, 0, undefined, this.limits), value: id },
          minProperties: 0,
          maxProperties: undefined,
          order: this.order,
          maxWhitespace: this.ws,
        },
        this.limits.maxAutomatonStates,
      ),
    );
    const arr = this.add(
      new ArrayMachine({ prefix: [], items: id, minItems: 0, maxItems: undefined, maxWhitespace: this.ws }),
    );
    const scalars = [
      stringLeaf(null, 0, undefined, this.limits),
      numberLeaf({ integer: false }, this.limits),
      literalLeaf(['true', 'false', 'null'], this.limits),
    ].map((leaf) => this.add(new LeafMachine(leaf)));
    this.machines[id] = new UnionMachine([obj, arr, ...scalars]);
    return id;
  }

  private buildObject(schema: SchemaObject, pointer: string): number {
    const s = applyUnevaluated(schema, pointer);
    for (const key of Object.keys(s)) {
      if (UNSUPPORTED.has(key)) throw new CompileError(key, pointer, 'this keyword is not enforced by the decoder');
    }
    if (Object.hasOwn(s, 'if') && (Object.hasOwn(s, 'then') || Object.hasOwn(s, 'else')))
      return this.build(rewriteConditional(s, pointer), pointer);
    const dependent = rewriteDependentSchemas(s, pointer);
    if (dependent) return this.build(dependent, pointer);
    if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) return this.union(s, pointer);
    if ('const' in s || Array.isArray(s.enum)) return this.literals(s, pointer);
    const types = new Set(typeList(s.type));
    if (types.has('number')) types.delete('integer');
    const alternatives: number[] = [];
    for (const t of types) {
      try {
        alternatives.push(this.typed(t, s, pointer));
      } catch (e) {
        if (!(e instanceof Unsatisfiable)) throw e;
      }
    }
    if (alternatives.length === 0) throw new Unsatisfiable(`no type of ${[...types].join('/')} fits`);
    return alternatives.length === 1 ? alternatives[0]! : this.add(new UnionMachine(alternatives));
  }

  private typed(type: string, s: SchemaObject, pointer: string): number {
    switch (type) {
      case 'null':
        return this.add(new LeafMachine(literalLeaf(['null'], this.limits)));
      case 'boolean':
        return this.add(new LeafMachine(literalLeaf(['true', 'false'], this.limits)));
      case 'string':
        return this.add(new LeafMachine(stringFromSchema(s, pointer, this.limits)));
      case 'number':
      case 'integer':
        return this.add(new LeafMachine(numberFromSchema(s, type === 'integer', pointer, this.limits)));
      case 'object':
        return this.objectMachine(s, pointer);
      case 'array':
        return this.arrayMachine(s, pointer);
      default:
        throw new CompileError('type', pointer, `unknown type ${JSON.stringify(type)}`);
    }
  }

  private union(s: SchemaObject, pointer: string): number {
    const keyword = Array.isArray(s.anyOf) ? 'anyOf' : 'oneOf';
    const { [keyword]: items, ...rest } = s;
    const options = items as unknown[];
    if (keyword === 'oneOf') assertDisjoint(this.root, options, rest, pointer);
    const ids: number[] = [];
    options.forEach((item, i) => {
      const at = childPointer(childPointer(pointer, keyword), i);
      try {
        ids.push(hasValidation(rest) ? this.build({ allOf: [rest, item] }, at) : this.build(item, at));
      } catch (e) {
        if (!(e instanceof Unsatisfiable)) throw e;
      }
    });
    if (ids.length === 0) throw new Unsatisfiable(`no ${keyword} alternative is satisfiable`);
    return ids.length === 1 ? ids[0]! : this.add(new UnionMachine(ids));
  }

  private literals(s: SchemaObject, pointer: string): number {
    // Both can meet in a merged allOf: the values are then the const, if the enum lists it.
    const listed = Array.isArray(s.enum) ? new Set((s.enum as unknown[]).map((v) => JSON.stringify(v))) : null;
    const values = Object.hasOwn(s, 'const')
      ? [s.const].filter((v) => !listed || listed.has(JSON.stringify(v)))
      : (s.enum as unknown[]);
    const { const: _c, enum: _e, ...rest } = s;
    void _c;
    void _e;
    const keep = filterByRest(this, values, rest, pointer, this.limits);
    if (keep.length === 0) throw new Unsatisfiable('no enum member satisfies the other keywords');
    return this.add(
      new LeafMachine(
        literalLeaf(
          keep.map((v) => JSON.stringify(v)),
          this.limits,
        ),
      ),
    );
  }

  private objectMachine(s: SchemaObject, pointer: string): number {
    return buildObjectMachine(this, s, pointer, this.ws, this.order);
  }

  private arrayMachine(s: SchemaObject, pointer: string): number {
    if (Object.hasOwn(s, 'contains')) return buildContainsArray(this, s, pointer, this.ws);
    return buildArrayMachine(this, s, pointer, this.ws);
  }
}

const PENDING: Machine = {
  leaf: null,
  start: 0,
  next: () => {
    throw new PendingError('pending');
  },
  calls: () => {
    throw new PendingError('pending');
  },
  isFinal: () => false,
};

/** The keyword whose automaton a RangeError most likely comes from, for the CompileError naming it. */
function limitKeyword(schema: unknown): string {
  if (schema === null || typeof schema !== 'object') return 'schema';
  return (
    ['enum', 'const', 'pattern', 'format', 'properties', 'patternProperties'].find((k) => Object.hasOwn(schema, k)) ??
    'schema'
  );
}

function withoutRef(s: SchemaObject): SchemaObject {
  const { $ref: _r, ...rest } = s;
  void _r;
  return rest;
}
