// Unit tests of the hand-written runtime (node's test runner; `npm test` bundles and runs them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { action, find, UnknownName } from '../src/catalog';
import { call, confirm, dryRun, fileName, items, prepare, type Connection } from '../src/call';
import { InvalidInput, NotConfirmed, parseApiError } from '../src/errors';
import { encodePathLiteral, encodeQueryValue, odataLiteral } from '../src/literal';
import { inputFromParameters } from '../src/parameters';
import { buildRequest, canonicalJson } from '../src/request';
import { AuthError, clearTokens, lifetimeSeconds, tokenFromAnswer, tokenFromResponse, withToken } from '../src/token';
import { NetworkError, type HttpRequest, type HttpResponse } from '../src/transport';
import { normaliseBaseUrl, underApiRoot } from '../src/url';

const BASE = 'https://pbx.example.com:5001';

function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
	return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(value)) };
}

/** A fake PBX: records requests, answers tokens, and delegates the rest to `handler`. */
function fakePbx(handler: (r: HttpRequest) => HttpResponse | Promise<HttpResponse>) {
	const requests: HttpRequest[] = [];
	let tokens = 0;
	const raw = async (r: HttpRequest): Promise<HttpResponse> => {
		requests.push(r);
		if (r.url.endsWith('/connect/token')) {
			tokens++;
			return json(200, { access_token: `t${tokens}`, expires_in: 60, token_type: 'Bearer' });
		}
		return handler(r);
	};
	return { requests, tokens: () => tokens, raw };
}

function connection(raw: (r: HttpRequest) => Promise<HttpResponse>, clientId = `c${Math.random()}`): Connection {
	return { base: BASE, transport: withToken(raw, BASE, clientId, 'the-secret') };
}

test('OData literals: quotes doubled, structure percent-encoded, numbers bare', () => {
	assert.equal(odataLiteral("O'Brien", 'quoted'), "'O''Brien'");
	assert.equal(odataLiteral(100, 'quoted'), "'100'");
	assert.equal(odataLiteral(42, 'bare'), '42');
	assert.equal(odataLiteral(null, 'quoted'), 'null');
	assert.equal(encodePathLiteral("1)/Pbx.BatchDelete", 'quoted'), "'1%29%2FPbx.BatchDelete'");
	assert.equal(encodePathLiteral('é +', 'quoted'), "'%C3%A9%20%2B'");
	assert.equal(encodePathLiteral('2024-01-01T00:00:00+02:00', 'bare'), '2024-01-01T00:00:00%2B02:00');
	assert.throws(() => odataLiteral([1], 'bare'));
	assert.equal(encodeQueryValue("Number eq '100' and x+y"), "Number%20eq%20%27100%27%20and%20x%2By");
	// Nothing for the URL parser to re-encode: what the dry run shows is what is sent.
	const built = `https://pbx/xapi/v1/Users?$filter=${encodeQueryValue("Name eq 'O''B' é#&")}`;
	assert.equal(new URL(built).href, built);
	assert.equal(encodeQueryValue('a&b=c#d'), 'a%26b%3Dc%23d');
});

test('requests: key literal, joined $select, action body, entity body, If-Match', () => {
	const byNumber = buildRequest(action('GetUserByNumber'), { Number: "O'B", $select: ['Id', 'Number'] });
	assert.equal(byNumber.pathAndQuery, "/Users(Number='O''B')?$select=Id,Number");
	assert.equal(byNumber.body, null);
	const purge = buildRequest(action('PurgeChats'), { period: { Stop: null, Start: '2024-01-01T00:00:00Z' } });
	assert.equal(purge.body, '{"period":{"Start":"2024-01-01T00:00:00Z","Stop":null}}');
	assert.equal(buildRequest(action('PurgeChats'), {}).body, '{}');
	const update = buildRequest(action('UpdateUser'), { Id: 4, body: { LastName: 'B', FirstName: 'A' } });
	assert.equal(update.pathAndQuery, '/Users(4)');
	assert.equal(update.body, '{"FirstName":"A","LastName":"B"}');
	const del = buildRequest(action('DeleteUser'), { Id: 4, 'If-Match': '*' });
	assert.deepEqual(del.headers, [['If-Match', '*']]);
	assert.throws(() => buildRequest(action('GetUserByNumber'), {}), InvalidInput);
	assert.throws(
		() => buildRequest(action('DeleteUser'), { Id: 4, 'If-Match': '*\r\nX-Evil: 1' }),
		(e: unknown) => e instanceof InvalidInput && e.pointer === '/If-Match',
	);
});

test('JSON bodies sort keys by their UTF-8 bytes, like serde_json', () => {
	assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }], Z: 'é' }), '{"Z":"é","a":[{"c":2,"d":1}],"b":1}');
});

test('validation names the field and what was expected; nothing is built', () => {
	const purge = find('Purge Settings', 'Purge Chats');
	assert.throws(
		() => prepare(purge, { period: { Start: 'yesterday' } }),
		(e: unknown) => e instanceof InvalidInput && e.pointer === '/period/Start' && e.expected === 'a date-time such as 2024-01-01T00:00:00Z or null',
	);
	assert.throws(
		() => prepare(purge, { preiod: {} }),
		(e: unknown) => e instanceof InvalidInput && e.expected === 'no property "preiod" (allowed: period)',
	);
	assert.throws(
		() => prepare(find('users', 'get-user-by-number'), {}),
		(e: unknown) => e instanceof InvalidInput && e.expected === 'a value for the required property "Number"',
	);
	assert.throws(
		() => prepare(find('Users', 'Get User'), { Id: 'seven' }),
		(e: unknown) => e instanceof InvalidInput && e.pointer === '/Id' && e.expected.startsWith('an integer'),
	);
});

test('names in any spelling; unknown ones get suggestions', () => {
	assert.equal(find('purge_settings', 'PURGE-CHATS').name, 'PurgeChats');
	assert.throws(() => find('Purge Setting', 'x'), (e: unknown) => e instanceof UnknownName && e.suggestions.includes('PurgeSettings'));
});

test('destructive actions need confirmation', () => {
	const prepared = prepare(action('PurgeChats'), {});
	assert.throws(() => confirm(prepared, false), NotConfirmed);
	confirm(prepared, true);
	confirm(prepare(action('ListUser'), {}), false);
});

test('the dry run has the CLI form', () => {
	const out = dryRun(prepare(action('DeleteUser'), { Id: 4, 'If-Match': '*' }), `${BASE}/xapi/v1`);
	assert.deepEqual(out, {
		body: null,
		headers: { Accept: 'application/json', Authorization: 'Bearer [REDACTED]', 'If-Match': '*' },
		method: 'DELETE',
		url: `${BASE}/xapi/v1/Users(4)`,
	});
});

test('token lifetimes: minutes before 20.0.9, seconds since, absurd values clamped', () => {
	assert.equal(lifetimeSeconds(60), 3600);
	assert.equal(lifetimeSeconds(3600), 3600);
	assert.equal(lifetimeSeconds('3600'), 3600);
	assert.equal(lifetimeSeconds(Number.MAX_SAFE_INTEGER), 86400);
	assert.equal(lifetimeSeconds(1.8e19), 86400);
	assert.equal(lifetimeSeconds(0), 300);
	assert.equal(lifetimeSeconds('soon'), 300);
	const t = tokenFromAnswer({ access_token: 'x', expires_in: 60 }, 1000);
	assert.equal(t.refreshAt, 1000 + (3600 - 30) * 1000);
	assert.throws(() => tokenFromAnswer({ expires_in: 60 }, 0), AuthError);
	// An endpoint echoing the form does not get the secret into the error, in any encoding.
	const secret = 's3cr3t+/=&é';
	const echo = `bad request: client_secret=${encodeURIComponent(secret)}`;
	assert.throws(
		() => tokenFromResponse(400, echo, secret, 0),
		(e: unknown) => e instanceof AuthError && !e.message.includes(encodeURIComponent(secret)) && !e.message.includes(secret),
	);
});

test('one token for concurrent calls; a 401 refreshes once and retries once', async () => {
	clearTokens();
	let refuse = 0;
	const pbx = fakePbx((r) => {
		if (refuse > 0) {
			refuse--;
			return json(401, { error: { message: 'expired' } });
		}
		return json(200, { value: [], auth: r.headers.Authorization });
	});
	const conn = connection(pbx.raw);
	const prepared = prepare(action('ListUser'), {});
	await Promise.all(Array.from({ length: 20 }, () => call(conn, prepared)));
	assert.equal(pbx.tokens(), 1);
	refuse = 1;
	const out = await call(conn, prepared);
	assert.equal(pbx.tokens(), 2);
	assert.deepEqual(out, { kind: 'json', value: { value: [], auth: 'Bearer t2' } });
	refuse = 2;
	await assert.rejects(call(conn, prepared), AuthError);
});

test('a purge whose connection fails is not sent again and reads as outcome unknown', async () => {
	clearTokens();
	let purges = 0;
	const pbx = fakePbx(() => {
		purges++;
		throw new Error('socket hang up');
	});
	const err = await call(connection(pbx.raw), prepare(action('PurgeChats'), {})).then(
		() => assert.fail('no error'),
		(e: unknown) => e,
	);
	assert.ok(err instanceof NetworkError && err.outcomeUnknown, String(err));
	assert.equal(purges, 1);
	const get = await call(connection(pbx.raw), prepare(action('ListUser'), {})).catch((e: unknown) => e);
	assert.ok(get instanceof NetworkError && !get.outcomeUnknown);
});

test('3CX errors keep their message and details', async () => {
	const e = parseApiError(
		400,
		JSON.stringify({ error: { code: '', message: 'Number:\nWARNINGS.XAPI.ALREADY_IN_USE', details: [{ code: '', message: 'WARNINGS.XAPI.ALREADY_IN_USE', target: 'Number' }] } }),
	);
	assert.equal(e.status, 400);
	assert.deepEqual(e.detailLines(), ['Number: WARNINGS.XAPI.ALREADY_IN_USE']);
	assert.equal(parseApiError(502, '<html>bad gateway</html>').apiMessage, '<html>bad gateway</html>');
});

test('collections page with $top/$skip until a short page, and stop at the limit', async () => {
	clearTokens();
	const all = Array.from({ length: 250 }, (_, i) => ({ Id: i }));
	const pbx = fakePbx((r) => {
		const q = new URL(r.url).searchParams;
		const top = Number(q.get('$top'));
		const skip = Number(q.get('$skip'));
		return json(200, { value: all.slice(skip, skip + top) });
	});
	const prepared = prepare(action('ListUser'), { $filter: 'Id ge 0' });
	const got: unknown[] = [];
	for await (const item of items(connection(pbx.raw), prepared, 100)) got.push(item);
	assert.equal(got.length, 250);
	const pages = pbx.requests.filter((r) => !r.url.endsWith('/connect/token'));
	assert.equal(pages.length, 3);
	assert.ok(pages[2].url.endsWith('/Users?$top=100&$skip=200&$filter=Id%20ge%200'), pages[2].url);
	const limited: unknown[] = [];
	for await (const item of items(connection(pbx.raw), prepared, 100, 120)) limited.push(item);
	assert.equal(limited.length, 120);
});

test('next links are followed only under the API root', async () => {
	clearTokens();
	let served = 0;
	const pbx = fakePbx((r) => {
		served++;
		if (r.url.includes('page=2')) return json(200, { value: [{ Id: 2 }], '@odata.nextLink': 'https://evil.example.com/xapi/v1/Users?page=3' });
		return json(200, { value: [{ Id: 1 }], '@odata.nextLink': `${BASE}/xapi/v1/Users?page=2` });
	});
	const got: unknown[] = [];
	const run = async () => {
		for await (const item of items(connection(pbx.raw), prepare(action('ListUser'), {}), 100)) got.push(item);
	};
	await assert.rejects(run(), /outside its API root/);
	assert.deepEqual(got, [{ Id: 1 }, { Id: 2 }]);
	assert.equal(served, 2);
	assert.equal(underApiRoot('/other-app/x', `${BASE}/xapi/v1`), undefined);
	assert.equal(underApiRoot('Users?$skip=5', `${BASE}/xapi/v1`), `${BASE}/xapi/v1/Users?$skip=5`);
});

test('downloads come back as files with their name', async () => {
	clearTokens();
	const pbx = fakePbx(() => ({
		status: 200,
		headers: { 'content-type': 'text/csv', 'content-disposition': 'attachment; filename="calls.csv"' },
		body: Buffer.from('a,b\n1,2\n'),
	}));
	const out = await call(connection(pbx.raw), prepare(action('DownloadCallHistory'), {}));
	assert.equal(out.kind, 'download');
	if (out.kind === 'download') {
		assert.equal(out.fileName, 'calls.csv');
		assert.equal(out.data.toString(), 'a,b\n1,2\n');
	}
	assert.equal(fileName("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.csv"), 'résumé.csv');
	assert.equal(fileName('attachment; filename="../../etc/passwd"'), 'passwd');
});

test('node parameters become the by-name input; unset optional fields are left out', () => {
	const purge = action('PurgeChats');
	const params: Record<string, unknown> = { period: '{"Start":null,"Stop":"2024-01-01T00:00:00Z"}' };
	assert.deepEqual(
		inputFromParameters(purge, (n, d) => params[n] ?? d),
		{ period: { Start: null, Stop: '2024-01-01T00:00:00Z' } },
	);
	assert.deepEqual(inputFromParameters(purge, (n, d) => ({ period: '' })[n] ?? d), {});
	assert.throws(() => inputFromParameters(purge, (n, d) => ({ period: '{oops' })[n] ?? d), (e: unknown) => e instanceof InvalidInput && e.pointer === '/period');
	const list = action('ListUser');
	const input = inputFromParameters(list, (n, d) => ({ options: { filter: "Number eq '100'", select: 'Id,Number', search: '' } })[n] ?? d);
	assert.deepEqual(input, { $filter: "Number eq '100'", $select: 'Id,Number' });
});

test('PBX URLs normalise like the CLI; unsafe ones are refused without echoing secrets', () => {
	assert.equal(normaliseBaseUrl('https://PBX.Example.com:443/xapi/v1/'), 'https://pbx.example.com');
	assert.equal(normaliseBaseUrl('pbx.example.com:5001'), 'https://pbx.example.com:5001');
	assert.equal(normaliseBaseUrl('http://127.0.0.1:8080'), 'http://127.0.0.1:8080');
	assert.throws(() => normaliseBaseUrl('http://pbx.example.com'), /plain http/);
	assert.throws(() => normaliseBaseUrl('https://u:hunter2@pbx.example.com'), (e: unknown) => !String(e).includes('hunter2'));
});
