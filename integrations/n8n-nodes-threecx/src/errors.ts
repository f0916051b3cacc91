// Errors of the runtime that carry what a person needs to act on them.

/** JSON pointer of a top-level input key (`~` and `/` escaped per RFC 6901). */
export function pointer(key: string): string {
	return `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** The input does not fit the action's schema; nothing was sent. */
export class InvalidInput extends Error {
	constructor(
		readonly pointer: string,
		readonly expected: string,
		readonly example?: string,
	) {
		super(
			`invalid input at ${pointer || '(the input object)'}: expected ${expected}` +
				(example !== undefined ? `, for example ${example}` : ''),
		);
	}
}

/** A destructive action was asked for without confirmation; nothing was sent. */
export class NotConfirmed extends Error {
	constructor(readonly action: string) {
		super(
			`${action} is destructive and was not sent: turn on "Confirm Destructive Action" ` +
				'(parameter confirm) to run it',
		);
	}
}

/** One field-level finding of a 3CX validation error (`details` of its OData error). */
export interface ErrorDetail {
	code: string;
	message: string;
	target: string;
}

/** The PBX answered with an error status; `message` and `details` are 3CX's own. */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly apiMessage: string,
		readonly details: ErrorDetail[],
	) {
		super(`3CX answered ${status}: ${apiMessage || '(no message)'}`);
	}

	/** `Number: WARNINGS.XAPI.ALREADY_IN_USE`, one line per detail. */
	detailLines(): string[] {
		return this.details.map((d) => `${d.target || '(object)'}: ${d.message || d.code}`);
	}
}

/** Parses a 3CX/OData error body `{"error":{"code","message","details":[...]}}`. */
export function parseApiError(status: number, body: string): ApiError {
	try {
		const parsed = JSON.parse(body) as { error?: { message?: unknown; details?: unknown } };
		const e = parsed?.error;
		if (e && typeof e === 'object') {
			const details = Array.isArray(e.details)
				? e.details.map((d: Record<string, unknown>) => ({
						code: String(d?.code ?? ''),
						message: String(d?.message ?? ''),
						target: String(d?.target ?? ''),
					}))
				: [];
			return new ApiError(status, String(e.message ?? ''), details);
		}
	} catch {
		// not JSON: fall through to an excerpt
	}
	return new ApiError(status, excerpt(body), []);
}

/** The first 300 characters of a body, control characters removed. */
export function excerpt(text: string): string {
	const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
	return clean.length > 300 ? `${clean.slice(0, 300)}...` : clean;
}
