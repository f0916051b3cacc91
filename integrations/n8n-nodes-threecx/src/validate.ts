// Input validation against the action's input JSON Schema (Ajv, draft 2020-12), and the
// translation of its findings into one InvalidInput a person can act on: where (a JSON pointer),
// what was expected (in words, from the schema at that place) and an example, in the words the
// threecx CLI uses. Formats are not asserted: 3CX's date-time rule is in its `pattern`s.

import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import modelsFile from '../generated/models.json';
import type { Action } from './catalog';
import { InvalidInput } from './errors';

type Schema = Record<string, unknown>;

const models = modelsFile as unknown as { $defs: Record<string, Schema> };

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function validator(action: Action): ValidateFunction {
	let v = compiled.get(action.name);
	if (!v) {
		if (!ajv) {
			ajv = new Ajv2020({
				strict: false,
				allErrors: true,
				verbose: true,
				validateFormats: false,
				// `x-threecx-*` annotations are the codegen's own.
				keywords: ['x-threecx-navigation', 'x-threecx-flags'],
			});
			const { '@generated': _marker, threecx_version: _v, spec_sha256: _s, ...schema } = modelsFile as Schema;
			ajv.addSchema(schema);
		}
		v = ajv.compile(action.input_schema);
		compiled.set(action.name, v);
	}
	return v;
}

/** Throws InvalidInput when `input` does not fit the action's input schema. */
export function validate(action: Action, input: unknown): void {
	const v = validator(action);
	if (v(input)) return;
	throw humanize(v.errors ?? [], input);
}

function depth(e: ErrorObject): number {
	return e.instancePath === '' ? 0 : e.instancePath.split('/').length - 1;
}

/** Deepest finding first; at one depth, the alternatives (`anyOf`) before the facts of one of
 * them, and a bare type mismatch last. */
function rank(e: ErrorObject): number {
	if (e.keyword === 'anyOf' || e.keyword === 'oneOf') return 0;
	if (e.keyword === 'type') return 2;
	return 1;
}

function humanize(errors: ErrorObject[], input: unknown): InvalidInput {
	if (errors.length === 0) return new InvalidInput('', "an input matching the action's schema");
	const sorted = [...errors].sort((a, b) => depth(b) - depth(a) || rank(a) - rank(b));
	const e = sorted[0];
	const holder = (e.parentSchema ?? {}) as Schema;
	const at = e.instancePath;
	switch (e.keyword) {
		case 'additionalProperties': {
			const unexpected = errors
				.filter((x) => x.keyword === 'additionalProperties' && x.instancePath === at)
				.map((x) => `"${(x.params as { additionalProperty: string }).additionalProperty}"`);
			const allowed = Object.keys((holder.properties as Schema) ?? {});
			const head = unexpected.length === 1 ? `no property ${unexpected[0]}` : `no properties ${unexpected.join(', ')}`;
			const tail = allowed.length ? `(allowed: ${listText(allowed, 20)})` : '(this object takes no properties)';
			return new InvalidInput(at, `${head} ${tail}`);
		}
		case 'required': {
			const name = (e.params as { missingProperty: string }).missingProperty;
			const prop = ((holder.properties as Record<string, Schema>) ?? {})[name];
			return new InvalidInput(at, `a value for the required property "${name}"`, prop ? exampleText(prop) : undefined);
		}
		case 'minimum':
		case 'maximum':
		case 'exclusiveMinimum':
		case 'exclusiveMaximum': {
			const noun = primaryType(holder) === 'integer' ? 'an integer' : 'a number';
			return new InvalidInput(at, `${noun}${rangeText(holder, true)}`, exampleText(holder));
		}
		case 'minLength':
		case 'maxLength':
			return new InvalidInput(at, `a string of ${countText(holder, 'minLength', 'maxLength', 'character')}`);
		case 'minItems':
		case 'maxItems':
			return new InvalidInput(at, `a list of ${countText(holder, 'minItems', 'maxItems', 'item')}`);
		case 'uniqueItems':
			return new InvalidInput(at, 'a list without repeated items');
		case 'type':
		case 'anyOf':
		case 'oneOf':
		case 'enum':
		case 'const':
		case 'pattern':
		case 'format':
			return new InvalidInput(at, describe(holder, 0), exampleText(holder));
		default:
			void input;
			return new InvalidInput(at, `a valid value (${e.message ?? e.keyword})`);
	}
}

const MAX_DEPTH = 8;
const MAX_EXAMPLE_LEN = 160;

function resolve(schema: Schema): Schema | undefined {
	const ref = schema.$ref;
	if (typeof ref !== 'string') return schema;
	const i = ref.indexOf('#/$defs/');
	return i < 0 ? undefined : models.$defs[ref.slice(i + '#/$defs/'.length)];
}

function isNullSchema(s: unknown): boolean {
	return (s as Schema)?.type === 'null';
}

function primaryType(s: Schema): string | undefined {
	const t = s.type;
	if (typeof t === 'string') return t;
	if (Array.isArray(t)) return (t.find((x) => x !== 'null') ?? t[0]) as string | undefined;
	if (s.properties) return 'object';
	if (s.items) return 'array';
	return undefined;
}

function stringKind(s: Schema): string | undefined {
	const format = s.format;
	if (typeof format === 'string' && ['date-time', 'date', 'time', 'uuid', 'duration'].includes(format)) return format;
	const pattern = typeof s.pattern === 'string' ? s.pattern : '';
	if (pattern.startsWith('^[0-9]{4,}-') && pattern.includes('T([01][0-9]|2[0-3])')) return 'date-time';
	return undefined;
}

function stringExample(kind: string | undefined): string {
	switch (kind) {
		case 'date-time':
			return '2024-01-01T00:00:00Z';
		case 'date':
			return '2024-01-01';
		case 'time':
			return '00:00:00';
		case 'uuid':
			return '00000000-0000-0000-0000-000000000000';
		case 'duration':
			return 'PT0S';
		default:
			return 'string';
	}
}

/** What `schema` accepts, in words: `a date-time such as 2024-01-01T00:00:00Z or null`. */
export function describe(schema: Schema, depth: number): string {
	if (typeof schema !== 'object' || schema === null) return 'a value';
	if (typeof schema.$ref === 'string') {
		const target = resolve(schema);
		return target && depth < MAX_DEPTH ? describe(target, depth + 1) : 'a value';
	}
	if ('const' in schema) return `exactly ${JSON.stringify(schema.const)}`;
	if (Array.isArray(schema.enum)) return enumText(schema.enum);
	if (Array.isArray(schema['x-threecx-flags'])) {
		const names = (schema['x-threecx-flags'] as unknown[]).map((f) => JSON.stringify(f));
		return `a comma-separated combination of ${listText(names, 12)}`;
	}
	for (const keyword of ['anyOf', 'oneOf']) {
		const branches = schema[keyword];
		if (Array.isArray(branches)) {
			const parts = branches.filter((b) => !isNullSchema(b)).map((b) => describe(b as Schema, depth + 1));
			return alternatives(parts, branches.some(isNullSchema));
		}
	}
	if (Array.isArray(schema.allOf)) {
		const names = Object.keys((schema.properties as Schema) ?? {});
		for (const part of schema.allOf as Schema[]) names.push(...Object.keys((resolve(part)?.properties as Schema) ?? {}));
		return objectText(names);
	}
	const nullable = Array.isArray(schema.type) && schema.type.includes('null');
	let main: string;
	switch (primaryType(schema)) {
		case 'object':
			main = objectText(Object.keys((schema.properties as Schema) ?? {}));
			break;
		case 'string':
			main = stringText(schema);
			break;
		case 'integer':
			main = `an integer${rangeText(schema, false)}`;
			break;
		case 'number':
			main = `a number${rangeText(schema, false)}`;
			break;
		case 'boolean':
			main = 'true or false';
			break;
		case 'array':
			main = 'a list';
			break;
		case 'null':
			return 'null';
		default:
			return 'a value';
	}
	return alternatives([main], nullable);
}

function objectText(names: string[]): string {
	return names.length ? `an object with properties ${listText(names, 12)}` : 'an object';
}

function stringText(s: Schema): string {
	const kind = stringKind(s);
	if (kind) {
		const article = kind === 'uuid' ? 'a UUID' : `a ${kind}`;
		return `${article} such as ${stringExample(kind)}`;
	}
	if (typeof s.pattern === 'string') return `a string matching ${s.pattern}`;
	if ('minLength' in s || 'maxLength' in s) return `a string of ${countText(s, 'minLength', 'maxLength', 'character')}`;
	return 'a string';
}

function enumText(values: unknown[]): string {
	const names = values.filter((v) => v !== null).map((v) => JSON.stringify(v));
	let main: string;
	if (names.length === 0) return 'null';
	else if (names.length === 1) main = `exactly ${names[0]}`;
	else main = `one of ${listText(names, 12)}`;
	return alternatives([main], values.includes(null));
}

function alternatives(parts: string[], nullable: boolean): string {
	const unique = parts.filter((p, i) => i === 0 || parts[i - 1] !== p);
	let text = unique.join(' or ');
	if (!text) return nullable ? 'null' : 'a value';
	if (nullable) text += text.includes(',') ? ', or null' : ' or null';
	return text;
}

function listText(items: string[], max: number): string {
	return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, ... (${items.length} in all)`;
}

function countText(s: Schema, minKey: string, maxKey: string, unit: string): string {
	const min = typeof s[minKey] === 'number' ? (s[minKey] as number) : undefined;
	const max = typeof s[maxKey] === 'number' ? (s[maxKey] as number) : undefined;
	const plural = (n: number) => (n === 1 ? unit : unit.endsWith('y') ? `${unit.slice(0, -1)}ies` : `${unit}s`);
	if (min !== undefined && max !== undefined) return `${min} to ${max} ${plural(max)}`;
	if (min !== undefined) return `at least ${min} ${plural(min)}`;
	if (max !== undefined) return `at most ${max} ${plural(max)}`;
	return `any number of ${plural(2)}`;
}

function rangeText(s: Schema, always: boolean): string {
	const min = (s.minimum ?? s.exclusiveMinimum) as number | undefined;
	const max = (s.maximum ?? s.exclusiveMaximum) as number | undefined;
	const boiler = (v: number | undefined, limits: number[]) => v !== undefined && limits.includes(v);
	if (
		!always &&
		(min === undefined || boiler(min, [-2147483648, -9223372036854775808])) &&
		(max === undefined || boiler(max, [2147483647, 9223372036854775807]))
	) {
		return '';
	}
	const below = 'exclusiveMaximum' in s ? ' (exclusive)' : '';
	const above = 'exclusiveMinimum' in s ? ' (exclusive)' : '';
	if (min !== undefined && max !== undefined) return ` from ${min}${above} to ${max}${below}`;
	if (min !== undefined) return ` of at least ${min}${above}`;
	if (max !== undefined) return ` of at most ${max}${below}`;
	return '';
}

/** A short example for `schema`, as JSON text, or undefined. */
function exampleText(schema: Schema): string | undefined {
	const value = example(schema, 0);
	if (value === null || value === undefined) return undefined;
	const text = JSON.stringify(value);
	return text.length <= MAX_EXAMPLE_LEN ? text : undefined;
}

function example(schema: Schema, depth: number): unknown {
	if (typeof schema !== 'object' || schema === null) return null;
	if (typeof schema.$ref === 'string') {
		const target = resolve(schema);
		return target && depth < 4 ? example(target, depth + 1) : null;
	}
	if ('const' in schema) return schema.const;
	if (schema.default !== undefined && schema.default !== null) return schema.default;
	if (Array.isArray(schema.enum)) return schema.enum.find((v) => v !== null) ?? null;
	for (const keyword of ['anyOf', 'oneOf']) {
		const branches = schema[keyword];
		if (Array.isArray(branches)) {
			const b = branches.find((x) => !isNullSchema(x)) ?? branches[0];
			return b ? example(b as Schema, depth) : null;
		}
	}
	switch (primaryType(schema)) {
		case 'object': {
			const out: Record<string, unknown> = {};
			const props = (schema.properties as Record<string, Schema>) ?? {};
			const required = (schema.required as string[]) ?? [];
			const small = Object.keys(props).length <= 8;
			for (const [name, p] of Object.entries(props)) {
				if (required.includes(name) || (small && !name.startsWith('$'))) out[name] = example(p, depth);
			}
			return out;
		}
		case 'array':
			return schema.items ? [example(schema.items as Schema, depth)] : [];
		case 'string':
			return stringExample(stringKind(schema));
		case 'integer':
		case 'number': {
			let n = 0;
			if (typeof schema.minimum === 'number') n = Math.max(n, schema.minimum);
			if (typeof schema.maximum === 'number') n = Math.min(n, schema.maximum);
			return n;
		}
		case 'boolean':
			return false;
		default:
			return null;
	}
}
