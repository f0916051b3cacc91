import type {
	IAuthenticateGeneric,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IDataObject,
	IHttpRequestHelper,
	INodeProperties,
} from 'n8n-workflow';
import { normaliseBaseUrl, tokenUrl } from '../src/url';
import { tokenForm, tokenFromResponse } from '../src/token';

/**
 * A 3CX API client (3CX admin console → Integrations → API): the PBX URL, the client's ID and
 * secret. The access token is fetched with the client-credentials form post (preAuthentication)
 * and cached in the credential, where n8n stores it (3CX keeps one active token per client). The
 * node asks for a new one when the cached one's lifetime has run out (3CX's `expires_in`:
 * minutes before 20.0.9, seconds since) and once when the PBX answers 401.
 *
 * A private certificate authority: n8n's request helper takes no CA per request, so start n8n
 * with NODE_EXTRA_CA_CERTS (Node.js's own setting) rather than ignoring TLS issues.
 */
export class ThreeCxApi implements ICredentialType {
	name = 'threeCxApi';

	displayName = '3CX API';

	icon = 'file:threecx.svg' as const;

	documentationUrl = 'https://www.3cx.com/docs/configuration-rest-api/';

	properties: INodeProperties[] = [
		{
			displayName: 'PBX URL',
			name: 'url',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://pbx.example.com:5001',
			description: 'The web address of the PBX: port 443 for hosted PBXs, often 5001 for self-hosted ones',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Ignore SSL Issues (Insecure)',
			name: 'allowUnauthorizedCerts',
			type: 'boolean',
			default: false,
			description:
				"Whether to connect even if the PBX's TLS certificate cannot be verified. For a private certificate authority, " +
				"prefer starting n8n with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, which keeps verification on",
		},
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true },
			default: '',
		},
		{
			displayName: 'Token Refresh At',
			name: 'tokenRefreshAt',
			type: 'hidden',
			default: 0,
		},
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject): Promise<IDataObject> {
		const base = normaliseBaseUrl(String(credentials.url ?? ''));
		const secret = String(credentials.clientSecret ?? '');
		const response = (await this.helpers.httpRequest({
			method: 'POST',
			url: tokenUrl(base),
			headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
			body: tokenForm(String(credentials.clientId ?? ''), secret),
			json: false,
			encoding: 'text',
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			skipSslCertificateValidation: credentials.allowUnauthorizedCerts === true,
		})) as { statusCode: number; body: unknown };
		const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '');
		const token = tokenFromResponse(response.statusCode, text, secret, Date.now());
		return { accessToken: token.value, tokenRefreshAt: token.refreshAt };
	}

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.accessToken}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL:
				'={{ ($credentials.url.includes("://") ? $credentials.url : "https://" + $credentials.url).replace(/\\/+$/, "").replace(/\\/xapi\\/v1$/, "") }}',
			url: '/xapi/v1/SystemStatus',
			method: 'GET',
			skipSslCertificateValidation: '={{$credentials.allowUnauthorizedCerts}}' as unknown as boolean,
		},
	};
}
