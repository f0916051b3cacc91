// Pure request building: an action plus one JSON input object gives the request (method, path
// and query, headers, body) without any I/O, exactly as threecx-core's `RequestTemplate::build`
// does, so that the node, its dry run and the threecx CLI put the same bytes on the wire.

import type { Action } from './catalog';
import { encodePathLiteral, encodeQueryValue, LiteralError, numberText } from './literal';
import { InvalidInput, pointer } from './errors';

export type Input = Record<string, unknown>;

export interface PreparedRequest {
	method: Action['method'];
	/** Relative to the API root `/xapi/v1`, percent-encoded: `/Users(Number='100')?$select=Id`. */
	pathAndQuery: string;
	/** Extra headers (e.g. `If-Match`); authorization and content headers are added on sending. */
	headers: Array<[string, string]>;
	/** JSON body text, keys sorted as threecx writes them. */
	body: string | null;
}

export function buildRequest(action: Action, input: Input): PreparedRequest {
	let pathAndQuery = renderPath(action, input);
	const headers: Array<[string, string]> = [];
	const bodyParams: Input = {};
	let entity: { value: unknown } | null = null;
	let firstQuery = true;

	for (const p of action.params) {
		if (!Object.prototype.hasOwnProperty.call(input, p.name)) continue;
		const value = input[p.name];
		switch (p.location) {
			case 'path':
				break;
			case 'query':
				if (value === null) break;
				pathAndQuery += firstQuery ? '?' : '&';
				firstQuery = false;
				pathAndQuery += `${encodeQueryValue(p.name)}=${encodeQueryValue(queryText(p.name, value))}`;
				break;
			case 'header':
				if (typeof value === 'string') {
					// What HTTP refuses on the wire is refused before anything is sent.
					if (!/^[\t\x20-\x7e]*$/.test(value)) {
						throw new InvalidInput(pointer(p.name), 'a header value of visible ASCII characters (no line breaks)');
					}
					headers.push([p.name, value]);
				} else if (value !== null) throw new InvalidInput(pointer(p.name), 'a string');
				break;
			case 'body':
				bodyParams[p.name] = value;
				break;
			case 'entity':
				entity = { value };
				break;
		}
	}

	const hasBodyParams = action.params.some((p) => p.location === 'body');
	let body: string | null = null;
	if (entity) body = canonicalJson(entity.value);
	else if (hasBodyParams) body = canonicalJson(bodyParams);
	return { method: action.method, pathAndQuery, headers, body };
}

function renderPath(action: Action, input: Input): string {
	return action.path.replace(/\{([^}]*)\}/g, (_, name: string) => {
		const param = action.params.find((p) => p.name === name && p.location === 'path');
		if (!param) throw new Error(`${action.name}: no path parameter for {${name}} (generated table is inconsistent)`);
		if (!Object.prototype.hasOwnProperty.call(input, name)) {
			throw new InvalidInput(pointer(name), 'a value for this path parameter');
		}
		try {
			return encodePathLiteral(input[name], param.literal ?? 'quoted');
		} catch (e) {
			if (e instanceof LiteralError) throw new InvalidInput(pointer(name), e.expected);
			throw e;
		}
	});
}

/** The text of a query option: lists (`$select`, `$orderby`, `$expand`) are comma-joined. */
function queryText(name: string, value: unknown): string {
	if (typeof value === 'string') return value;
	if (typeof value === 'number') return numberText(value);
	if (typeof value === 'boolean') return String(value);
	if (Array.isArray(value)) {
		return value
			.map((item, i) => {
				if (typeof item !== 'string') throw new InvalidInput(`${pointer(name)}/${i}`, 'a string');
				return item;
			})
			.join(',');
	}
	throw new InvalidInput(pointer(name), 'a string, number, boolean or list of strings');
}

/** JSON text with object keys sorted (by UTF-16 code units, as serde_json's map is by bytes for
 * the ASCII names 3CX uses), no spaces: the bytes threecx sends. */
export function canonicalJson(value: unknown): string {
	return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(sortKeys);
	if (value !== null && typeof value === 'object') {
		const out: Record<string, unknown> = {};
		for (const key of Object.keys(value).sort(byUtf8)) out[key] = sortKeys((value as Input)[key]);
		return out;
	}
	return value;
}

/** Orders strings by their UTF-8 bytes, as Rust's `String` ordering does. */
function byUtf8(a: string, b: string): number {
	return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
