import {
	NodeApiError,
	NodeConnectionTypes,
	NodeOperationError,
	type ICredentialDataDecryptedObject,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
	type JsonObject,
} from 'n8n-workflow';
import propertiesFile from '../../generated/properties.json';
import { action as findAction, type Action } from '../../src/catalog';
import { call, confirm, items, prepare, type Connection, type Output } from '../../src/call';
import { ApiError, InvalidInput, NotConfirmed } from '../../src/errors';
import { inputFromParameters } from '../../src/parameters';
import { AuthError, authErrorIn, REFUSED_FRESH_TOKEN } from '../../src/token';
import { NetworkError, type HttpRequest, type HttpResponse, type Transport } from '../../src/transport';
import { normaliseBaseUrl } from '../../src/url';

const CREDENTIAL = 'threeCxApi';
/** The entry n8n adds to each operation list of nodes whose credential has generic auth. */
const CUSTOM_API_CALL = '__CUSTOM_API_CALL__';

export class ThreeCx implements INodeType {
	description: INodeTypeDescription = {
		displayName: '3CX',
		name: 'threeCx',
		icon: 'file:threecx.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Call any action of the 3CX Configuration API (XAPI)',
		defaults: { name: '3CX' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: CREDENTIAL, required: true }],
		properties: (propertiesFile as unknown as { properties: INodeProperties[] }).properties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const out: INodeExecutionData[] = [];
		const credentials = await this.getCredentials(CREDENTIAL);
		const conn: Connection = { base: '', transport: n8nTransport(this, credentials) };
		const count = this.getInputData().length;
		for (let i = 0; i < count; i++) {
			try {
				conn.base = normaliseBaseUrl(String(credentials.url ?? ''));
				const operation = this.getNodeParameter('operation', i) as string;
				if (operation === CUSTOM_API_CALL) {
					throw new NodeOperationError(this.getNode(), 'Custom API Call is not an operation of this node', {
						itemIndex: i,
						description:
							"Use n8n's HTTP Request node with the 3CX API credential (Authentication: Predefined Credential Type) " +
							'for a request of your own; every action of the API is an operation here.',
					});
				}
				const action = findAction(operation);
				const input = inputFromParameters(action, (name, fallback) => this.getNodeParameter(name, i, fallback));
				const prepared = prepare(action, input);
				confirm(prepared, action.destructive && this.getNodeParameter('confirm', i, false) === true);
				if (action.paged) {
					const returnAll = this.getNodeParameter('returnAll', i, false) as boolean;
					const limit = returnAll ? undefined : (this.getNodeParameter('limit', i, 50) as number);
					for await (const item of items(conn, prepared, undefined, limit)) {
						out.push({ json: asObject(item), pairedItem: { item: i } });
					}
				} else {
					out.push(await toItem(this, await call(conn, prepared), i));
				}
			} catch (error) {
				const failure = toNodeError(this, error, i);
				if (this.continueOnFail()) {
					out.push({ json: { error: failure.message, description: failure.description ?? null }, pairedItem: { item: i } });
					continue;
				}
				throw failure;
			}
		}
		return [out];
	}
}

/** The item of a single answer: JSON as is, no content as `success`, a file as binary data. */
async function toItem(ctx: IExecuteFunctions, output: Output, i: number): Promise<INodeExecutionData> {
	switch (output.kind) {
			case 'empty':
				return { json: { success: true, status: output.status }, pairedItem: { item: i } };
			case 'json':
				return { json: asObject(output.value), pairedItem: { item: i } };
			case 'download': {
				const binary = await ctx.helpers.prepareBinaryData(output.data, output.fileName ?? undefined, output.contentType);
				return {
					json: { content_type: output.contentType, file_name: output.fileName, size: output.data.length },
					binary: { data: binary },
					pairedItem: { item: i },
				};
			}
		}
}

/** n8n items are objects: a scalar or list answer goes under `value`. */
function asObject(value: unknown): IDataObject {
	return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as IDataObject) : { value: value as IDataObject[keyof IDataObject] };
}

/**
 * Sends through n8n's request helper with the credential's token. n8n runs the credential's
 * preAuthentication (and stores the new token in the credential) whenever the token it is given
 * is empty: so it is emptied when its lifetime has run out, and once after a 401 (3CX keeps one
 * token per client: another client may have replaced ours; a request refused with 401 was not
 * carried out, so sending it again is safe). Status errors are the pipeline's to read.
 */
function n8nTransport(ctx: IExecuteFunctions, credentials: ICredentialDataDecryptedObject): Transport {
	// One object for the whole execution: n8n writes a refreshed token into it.
	const data: ICredentialDataDecryptedObject = { ...credentials };
	const nodeCredential = ctx.getNode().credentials?.[CREDENTIAL];
	const send = async (request: HttpRequest) => {
		const options: IHttpRequestOptions = {
			method: request.method as IHttpRequestOptions['method'],
			url: request.url,
			headers: request.headers,
			body: request.body ?? undefined,
			json: false,
			encoding: 'arraybuffer',
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			skipSslCertificateValidation: data.allowUnauthorizedCerts === true,
		};
		try {
			return (await ctx.helpers.httpRequestWithAuthentication.call(ctx, CREDENTIAL, options, {
				credentialsDecrypted: { id: nodeCredential?.id ?? '', name: nodeCredential?.name ?? '', type: CREDENTIAL, data },
			})) as { statusCode: number; headers: Record<string, unknown>; body: unknown };
		} catch (e) {
			const auth = authErrorIn(e);
			if (auth) throw new AuthError(auth.message, auth.status);
			throw e; // no answer: the pipeline decides what that means for this action
		}
	};
	return async (request: HttpRequest): Promise<HttpResponse> => {
		for (let attempt = 0; ; attempt++) {
			if (attempt > 0 || !data.accessToken || Number(data.tokenRefreshAt ?? 0) <= Date.now()) data.accessToken = '';
			const response = await send(request);
			if (response.statusCode === 401 && attempt === 0) continue;
			if (response.statusCode === 401) throw new AuthError(REFUSED_FRESH_TOKEN, 401);
			const headers: Record<string, string> = {};
			for (const [name, value] of Object.entries(response.headers ?? {})) headers[name.toLowerCase()] = String(value);
			const body = response.body;
			return {
				status: response.statusCode,
				headers,
				body: Buffer.isBuffer(body)
					? body
					: body instanceof ArrayBuffer
						? Buffer.from(body)
						: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? '')),
			};
		}
	};
}

/** The n8n error for a failure of item `i`: 3CX's message and details, or what to check. */
function toNodeError(ctx: IExecuteFunctions, error: unknown, i: number): NodeApiError | NodeOperationError {
	const node = ctx.getNode();
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (error instanceof InvalidInput || error instanceof NotConfirmed) {
		return new NodeOperationError(node, error.message, {
			itemIndex: i,
			description: 'Nothing was sent to the PBX.',
		});
	}
	if (error instanceof ApiError) {
		const details = error.detailLines();
		return new NodeApiError(
			node,
			{ message: error.apiMessage, status: error.status, details: error.details as unknown as JsonObject[] } as JsonObject,
			{
				itemIndex: i,
				httpCode: String(error.status),
				message: error.message,
				description: details.length ? details.join('\n') : undefined,
			},
		);
	}
	if (error instanceof AuthError) {
		return new NodeApiError(node, { message: error.message } as JsonObject, {
			itemIndex: i,
			httpCode: error.status !== undefined ? String(error.status) : undefined,
			message: error.message,
		});
	}
	if (error instanceof NetworkError) {
		return new NodeOperationError(node, error.message, {
			itemIndex: i,
			description: error.outcomeUnknown
				? 'Outcome unknown: the request may have reached the PBX. It was not sent again.'
				: 'No answer from the PBX.',
		});
	}
	return new NodeOperationError(node, error as Error, { itemIndex: i });
}

export type { Action };
