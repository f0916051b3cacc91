// OData literals in URL paths, written exactly as threecx-core's `literal` module writes them:
// strings quoted with inner quotes doubled, then everything outside a small safe set
// percent-encoded (UTF-8, upper-case hex), so no value can change the request path.

/** Characters left as they are inside a path literal: RFC 3986 unreserved, `'` and `:`. */
const PATH_SAFE = /[A-Za-z0-9\-._~':]/;
/** In a query option value: unreserved, `:` `,` `(` `)` `$` `/`; a space is `%20`, never `+`,
 * and a quote `%27` (as the URL parser would send it anyway). */
const QUERY_SAFE = /[A-Za-z0-9\-._~:,()$/]/;

export class LiteralError extends Error {
	constructor(readonly expected: string) {
		super(`expected ${expected}`);
	}
}

/** `'...'` with every `'` inside doubled. */
export function quote(s: string): string {
	return `'${s.replace(/'/g, "''")}'`;
}

/** The JSON text of a number as serde_json writes it for integers and plain decimals. */
export function numberText(n: number): string {
	if (!Number.isFinite(n)) throw new LiteralError('a finite number');
	return String(n);
}

/** The OData literal of `value` before percent-encoding: `'O''Brien'`, `100`, `true`, `null`. */
export function odataLiteral(value: unknown, literal: 'quoted' | 'bare'): string {
	if (value === null) return 'null';
	if (typeof value === 'string') return literal === 'quoted' ? quote(value) : value;
	if (typeof value === 'number') {
		const text = numberText(value);
		return literal === 'quoted' ? quote(text) : text;
	}
	if (typeof value === 'boolean') return literal === 'quoted' ? quote(String(value)) : String(value);
	throw new LiteralError('a string, number or boolean');
}

function percentEncode(text: string, safe: RegExp): string {
	let out = '';
	for (const ch of text) {
		if (ch.length === 1 && safe.test(ch)) {
			out += ch;
			continue;
		}
		for (const byte of Buffer.from(ch, 'utf8')) {
			out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
		}
	}
	return out;
}

/** The literal, percent-encoded for use inside a path segment. */
export function encodePathLiteral(value: unknown, literal: 'quoted' | 'bare'): string {
	return percentEncode(odataLiteral(value, literal), PATH_SAFE);
}

/** Percent-encodes a query option value (`Number eq '100'` → `Number%20eq%20%27100%27`). */
export function encodeQueryValue(value: string): string {
	return percentEncode(value, QUERY_SAFE);
}
