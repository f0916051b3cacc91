// The PBX URL, normalised as threecx-core does: `https://pbx:5001/xapi/v1/` → `https://pbx:5001`.

const API_PATH = '/xapi/v1';

export class BadUrl extends Error {}

function isLoopback(host: string): boolean {
	return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The base URL (scheme, host, port, any proxy prefix) of a PBX URL as a person types it. */
export function normaliseBaseUrl(raw: string): string {
	const trimmed = raw.trim();
	// Never echo a URL that may carry credentials (`https://user:pw@host`).
	const shown = trimmed.includes('@') ? 'the URL' : trimmed;
	if (!trimmed) throw new BadUrl('the PBX URL is empty; give e.g. https://pbx.example.com');
	const withScheme = trimmed.includes('://') ? trimmed : `https://${trimmed}`;
	let url: URL;
	try {
		url = new URL(withScheme);
	} catch {
		throw new BadUrl(`"${shown}" is not a URL; give e.g. https://pbx.example.com`);
	}
	if (!url.hostname) throw new BadUrl(`"${shown}" has no host name`);
	if (url.protocol === 'http:') {
		if (!isLoopback(url.hostname)) {
			throw new BadUrl(
				`"${shown}" uses plain http, which would send the client secret unencrypted; use https:// ` +
					'(3CX serves the API over HTTPS only)',
			);
		}
	} else if (url.protocol !== 'https:') {
		throw new BadUrl(`unsupported scheme "${url.protocol.replace(':', '')}"; use https://`);
	}
	if (url.username || url.password) {
		throw new BadUrl(
			"the PBX URL must not contain a user name or password; give the API client's ID and secret separately",
		);
	}
	if (url.search || url.hash) throw new BadUrl(`"${shown}" must not have a query or fragment`);
	let path = url.pathname.replace(/\/+$/, '');
	if (path.endsWith(API_PATH)) path = path.slice(0, -API_PATH.length).replace(/\/+$/, '');
	return `${url.protocol}//${url.host}${path}`;
}

export function apiRoot(base: string): string {
	return `${base}${API_PATH}`;
}

export function tokenUrl(base: string): string {
	return `${base}/connect/token`;
}

/** Whether `link` (absolute, or relative to the API root) stays under the API root; returns the
 * absolute link or undefined. The bearer token must never go anywhere else. */
export function underApiRoot(link: string, root: string): string | undefined {
	let absolute: URL;
	const rootUrl = new URL(`${root}/`);
	try {
		absolute = new URL(link, rootUrl);
	} catch {
		return undefined;
	}
	if (absolute.origin !== rootUrl.origin) return undefined;
	if (!absolute.pathname.startsWith(rootUrl.pathname)) return undefined;
	return absolute.toString();
}
