// Access tokens of the 3CX API: client credentials posted as a form to /connect/token. 3CX keeps
// one active token per API client, so a token is fetched once and reused until it nears its end
// (or the PBX answers 401), and concurrent calls share one fetch.

import type { HttpRequest, HttpResponse, Transport } from './transport';
import { tokenUrl } from './url';
import { excerpt } from './errors';

/** `expires_in` up to this is minutes (3CX before 20.0.9 sent `60`); above, seconds. */
const MINUTES_MAX = 60;
/** Lifetime assumed when the answer says nothing usable. */
const DEFAULT_LIFETIME_S = 300;
/** No lifetime is trusted beyond a day, whatever the PBX says. */
const MAX_LIFETIME_S = 24 * 3600;
/** Refresh this long before the end (never more than a tenth of the lifetime). */
const REFRESH_MARGIN_S = 30;

export interface Token {
	value: string;
	/** Epoch milliseconds after which a new token is fetched. */
	refreshAt: number;
}

/** The token endpoint refused the credentials or answered nonsense; an answer was received. */
export class AuthError extends Error {
	readonly noAnswer = false;
	constructor(
		message: string,
		readonly status?: number,
	) {
		super(message);
		// Recognised by name too: the credential and the node are bundled separately.
		this.name = AUTH_ERROR;
	}
}

export const AUTH_ERROR = 'ThreeCxAuthError';

/** The AuthError in `e` or in its cause (n8n wraps errors of preAuthentication). */
export function authErrorIn(e: unknown): { message: string; status?: number } | undefined {
	for (let x = e as { name?: unknown; cause?: unknown } | undefined, i = 0; x && i < 4; x = x.cause as typeof x, i++) {
		if (x.name === AUTH_ERROR) return x as unknown as { message: string; status?: number };
	}
	return undefined;
}

/** The message of a request refused with 401 although its token was fresh. */
export const REFUSED_FRESH_TOKEN =
	'the PBX refused a fresh access token (401); check the API client in the 3CX admin console ' +
	'(Integrations → API): is it enabled, and does its role allow this action?';

/** Seconds a token lives, by the `expires_in` rule of 3CX (minutes before 20.0.9), clamped. */
export function lifetimeSeconds(expiresIn: unknown): number {
	const n = typeof expiresIn === 'string' ? Number(expiresIn) : expiresIn;
	if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return DEFAULT_LIFETIME_S;
	const seconds = n <= MINUTES_MAX ? n * 60 : n;
	return Math.min(seconds, MAX_LIFETIME_S);
}

export function tokenFromAnswer(answer: Record<string, unknown>, now: number): Token {
	const value = answer.access_token;
	if (typeof value !== 'string' || !value) {
		throw new AuthError('the token endpoint answered without an access_token');
	}
	const life = lifetimeSeconds(answer.expires_in);
	const margin = Math.min(REFRESH_MARGIN_S, life / 10);
	return { value, refreshAt: now + (life - margin) * 1000 };
}

/** The form body of the client-credentials request. */
export function tokenForm(clientId: string, secret: string): string {
	return new URLSearchParams({ client_id: clientId, client_secret: secret, grant_type: 'client_credentials' }).toString();
}

/** The token in a token endpoint's answer, or the AuthError it means. Neither the secret nor an
 * echo of the request reaches the error. */
export function tokenFromResponse(status: number, text: string, secret: string, now: number): Token {
	if (status < 200 || status > 299) {
		let reason = '';
		try {
			const j = JSON.parse(text) as Record<string, unknown>;
			reason = [j.error, j.error_description].filter((x) => typeof x === 'string' && x).join(': ');
		} catch {
			reason = excerpt(text);
		}
		// An endpoint that echoes the form would show the secret, raw or encoded: say nothing then.
		const encodings = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)];
		if (secret && encodings.some((e) => reason.includes(e))) reason = '';
		throw new AuthError(
			`the PBX refused the API client's credentials (${status}${reason ? `: ${reason}` : ''}); ` +
				"check the client ID and secret (3CX admin console → Integrations → API), the PBX URL, and the client's role",
			status,
		);
	}
	let answer: Record<string, unknown>;
	try {
		answer = JSON.parse(text) as Record<string, unknown>;
	} catch {
		throw new AuthError('the token endpoint answered something that is not JSON; is the URL that of a 3CX PBX?');
	}
	return tokenFromAnswer(answer, now);
}

/** Fetches a new token. The secret never appears in an error. */
export async function fetchToken(transport: Transport, base: string, clientId: string, secret: string): Promise<Token> {
	const response = await transport({
		method: 'POST',
		url: tokenUrl(base),
		headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
		body: tokenForm(clientId, secret),
	});
	return tokenFromResponse(response.status, response.body.toString('utf8'), secret, Date.now());
}

/** One cache entry per (base URL, client ID): the current token and the fetch in flight. */
interface Slot {
	token?: Token;
	inFlight?: Promise<Token>;
}

const slots = new Map<string, Slot>();

/** A fresh token for this client: the cached one, or one fetch shared by concurrent callers. */
export async function currentToken(
	transport: Transport,
	base: string,
	clientId: string,
	secret: string,
	stale?: string,
): Promise<string> {
	const key = `${base}\u0000${clientId}`;
	let slot = slots.get(key);
	if (!slot) {
		slot = {};
		slots.set(key, slot);
	}
	const s = slot;
	if (s.token && s.token.value !== stale && Date.now() < s.token.refreshAt) return s.token.value;
	if (!s.inFlight) {
		s.inFlight = fetchToken(transport, base, clientId, secret).then(
			(t) => {
				s.token = t;
				s.inFlight = undefined;
				return t;
			},
			(e) => {
				s.inFlight = undefined;
				throw e;
			},
		);
	}
	return (await s.inFlight).value;
}

/** A transport that adds this client's bearer token to every request, and on a 401 fetches a
 * new token and sends the request once more (3CX keeps one token per client: another client may
 * have replaced ours; a request refused with 401 was not carried out). */
export function withToken(raw: Transport, base: string, clientId: string, secret: string): Transport {
	return async (request: HttpRequest): Promise<HttpResponse> => {
		let stale: string | undefined;
		for (let attempt = 0; ; attempt++) {
			const token = await currentToken(raw, base, clientId, secret, stale);
			const response = await raw({ ...request, headers: { Authorization: `Bearer ${token}`, ...request.headers } });
			if (response.status !== 401) return response;
			if (attempt > 0) throw new AuthError(REFUSED_FRESH_TOKEN, 401);
			stale = token;
		}
	};
}

/** Forgets every cached token (tests). */
export function clearTokens(): void {
	slots.clear();
}
