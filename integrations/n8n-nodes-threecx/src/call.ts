// The call pipeline: validate and build once (`prepare`), then print (`dryRun`), send (`call`)
// or page through a collection (`items`). The connection's transport adds the bearer token (see
// token.ts, or n8n's credential in the node); nothing is ever sent again after a network
// failure, so a purge or delete is delivered at most once.

import type { Action } from './catalog';
import { buildRequest, type Input, type PreparedRequest } from './request';
import { validate } from './validate';
import { ApiError, excerpt, NotConfirmed, parseApiError } from './errors';
import { NetworkError, type HttpResponse, type Transport } from './transport';
import { apiRoot, underApiRoot } from './url';

/** A PBX to talk to. `base` is normalised (see url.ts); `transport` authenticates each request
 * (e.g. `withToken` of token.ts) and resolves with any status but a final 401. */
export interface Connection {
	base: string;
	transport: Transport;
}

/** A validated call: the action, its input and the request it makes. */
export interface PreparedCall {
	action: Action;
	input: Input;
	request: PreparedRequest;
}

export type Output =
	| { kind: 'json'; value: unknown }
	| { kind: 'empty'; status: number }
	| { kind: 'download'; contentType: string; fileName: string | null; data: Buffer };

/** Validates `input` against the action's schema and builds its request; sends nothing. */
export function prepare(action: Action, input: unknown): PreparedCall {
	validate(action, input);
	return { action, input: input as Input, request: buildRequest(action, input as Input) };
}

/** Refuses a destructive action unless confirmed; nothing is sent either way. */
export function confirm(call: PreparedCall, confirmed: boolean): void {
	if (call.action.destructive && !confirmed) throw new NotConfirmed(`${call.action.resource} / ${call.action.display_name}`);
}

/** The headers sent with a request, before the transport adds `Authorization`. */
export function wireHeaders(request: PreparedRequest): Record<string, string> {
	const headers: Record<string, string> = { Accept: 'application/json' };
	if (request.body !== null) headers['Content-Type'] = 'application/json';
	for (const [name, value] of request.headers) {
		if (name.toLowerCase() !== 'authorization') headers[name] = value;
	}
	return headers;
}

/** The request as `threecx call ... --dry-run --output json` prints it. */
export function dryRun(call: PreparedCall, root: string): Record<string, unknown> {
	const headers: Record<string, string> = { ...wireHeaders(call.request), Authorization: 'Bearer [REDACTED]' };
	const sorted: Record<string, string> = {};
	for (const name of Object.keys(headers).sort()) sorted[name] = headers[name];
	let body: unknown = null;
	if (call.request.body !== null) {
		try {
			body = JSON.parse(call.request.body);
		} catch {
			body = call.request.body;
		}
	}
	return { body, headers: sorted, method: call.request.method, url: `${root}${call.request.pathAndQuery}` };
}

/** Sends the prepared call once (once more after a 401, with a new token) and decodes the answer. */
export async function call(conn: Connection, prepared: PreparedCall): Promise<Output> {
	const url = `${apiRoot(conn.base)}${prepared.request.pathAndQuery}`;
	const response = await send(conn, prepared, url, prepared.request);
	return decode(prepared.action, response);
}

async function send(conn: Connection, prepared: PreparedCall, url: string, request: PreparedRequest): Promise<HttpResponse> {
	let response: HttpResponse;
	try {
		response = await conn.transport({ method: request.method, url, headers: wireHeaders(request), body: request.body });
	} catch (e) {
		if (e instanceof NetworkError || !isNetworkFailure(e)) throw e;
		throw networkError(prepared.action, e);
	}
	if (response.status < 200 || response.status > 299) {
		throw parseApiError(response.status, response.body.toString('utf8'));
	}
	return response;
}

/** Errors a transport raises for "no answer" (as opposed to its own refusals, e.g. auth). */
function isNetworkFailure(e: unknown): boolean {
	return !(e instanceof Error && (e as { noAnswer?: boolean }).noAnswer === false);
}

function networkError(action: Action, e: unknown): NetworkError {
	const reason = excerpt(String((e as Error)?.message ?? e));
	if (action.retry_safe) {
		return new NetworkError(`no answer from the PBX (${reason}); check the URL, port and firewall`, false);
	}
	return new NetworkError(
		`no answer from the PBX (${reason}). ${action.display_name} is not safe to repeat and may or may not ` +
			'have been carried out: it was not sent again; check the PBX before running it again',
		true,
	);
}

function isJson(contentType: string): boolean {
	return /^application\/([\w.+-]*\+)?json\b/i.test(contentType) || /\/json\b/i.test(contentType);
}

function decode(action: Action, response: HttpResponse): Output {
	const contentType = response.headers['content-type'] ?? '';
	if (response.status === 204 || (response.body.length === 0 && action.output !== 'download')) {
		return { kind: 'empty', status: response.status };
	}
	if (action.output === 'download' || !isJson(contentType)) {
		return {
			kind: 'download',
			contentType: contentType || 'application/octet-stream',
			fileName: fileName(response.headers['content-disposition'] ?? ''),
			data: response.body,
		};
	}
	try {
		return { kind: 'json', value: JSON.parse(response.body.toString('utf8')) };
	} catch {
		throw new ApiError(response.status, `the PBX answered with JSON that does not parse: ${excerpt(response.body.toString('utf8'))}`, []);
	}
}

/** The file name of a Content-Disposition header (`filename*=UTF-8''...` preferred). */
export function fileName(disposition: string): string | null {
	const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
	if (star) {
		try {
			return safeName(decodeURIComponent(star[1].trim()));
		} catch {
			// fall through to the plain form
		}
	}
	const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(disposition);
	if (!plain) return null;
	return safeName((plain[2] ?? plain[1]).trim());
}

/** A file name without directories or control characters. */
function safeName(name: string): string | null {
	const base = name.split(/[\\/]/).pop() ?? '';
	const clean = base.replace(/[\u0000-\u001f\u007f]/g, '');
	return clean && clean !== '.' && clean !== '..' ? clean : null;
}

/** How many items a page asks for when paging through everything. */
export const PAGE_SIZE = 100;

/**
 * The items of a collection, page by page: `$top`/`$skip` pages of at most `pageSize` (the input's
 * `$skip` is the start), `@odata.nextLink` followed when the PBX gives one (only under the API
 * root: the token goes nowhere else). Stops after `limit` items when given.
 */
export async function* items(conn: Connection, prepared: PreparedCall, pageSize = PAGE_SIZE, limit?: number): AsyncGenerator<unknown> {
	const action = prepared.action;
	const root = apiRoot(conn.base);
	const offsetPaging = ['$top', '$skip'].every((n) => action.params.some((p) => p.name === n));
	let skip = typeof prepared.input.$skip === 'number' ? prepared.input.$skip : 0;
	let remaining = limit ?? (typeof prepared.input.$top === 'number' ? prepared.input.$top : Infinity);
	let link: string | undefined;
	let first = true;
	while (remaining > 0) {
		let asked = Infinity;
		let response: HttpResponse;
		if (link) {
			response = await send(conn, prepared, link, { ...prepared.request, pathAndQuery: '' });
		} else if (offsetPaging) {
			asked = Math.min(pageSize, remaining);
			const request = buildRequest(action, { ...prepared.input, $top: asked, $skip: skip });
			response = await send(conn, prepared, `${root}${request.pathAndQuery}`, request);
		} else if (first) {
			response = await send(conn, prepared, `${root}${prepared.request.pathAndQuery}`, prepared.request);
		} else {
			return;
		}
		first = false;
		const output = decode(action, response);
		const page = output.kind === 'json' ? (output.value as Record<string, unknown>) : {};
		const values = Array.isArray(page?.value) ? (page.value as unknown[]) : [];
		for (const item of values) {
			if (remaining <= 0) return;
			remaining--;
			yield item;
		}
		const next = page?.['@odata.nextLink'];
		if (typeof next === 'string' && next) {
			link = underApiRoot(next, root);
			if (!link) throw new ApiError(response.status, 'the PBX gave a next-page link outside its API root; it was not followed', []);
			continue;
		}
		link = undefined;
		if (!offsetPaging || values.length < asked) return;
		skip += values.length;
	}
}
