// The one thing the runtime needs from its host: sending an HTTP request. The n8n node sends
// through n8n's request helper; tests and the dry run use their own.

export interface HttpRequest {
	method: string;
	url: string;
	headers: Record<string, string>;
	body: string | null;
}

export interface HttpResponse {
	status: number;
	/** Header names in lower case. */
	headers: Record<string, string>;
	body: Buffer;
}

/** Sends one request; resolves with any status. Rejects only when no answer was received. */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** The request failed before an answer arrived. For a request that is not safe to repeat, it may
 * or may not have reached the PBX: it is never sent again. */
export class NetworkError extends Error {
	constructor(
		message: string,
		readonly outcomeUnknown: boolean,
	) {
		super(message);
	}
}
