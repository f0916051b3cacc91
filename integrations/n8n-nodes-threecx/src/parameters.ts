// The by-name input of an action from the node's parameters: each field of the action under
// its own name (JSON fields parsed from their text), the query options under their OData names.
// An optional field left at its empty default is not sent.

import type { Action, Field } from './catalog';
import { InvalidInput, pointer } from './errors';
import type { Input } from './request';

/** Reads one parameter of the current item. */
export type GetParameter = (name: string, fallback: unknown) => unknown;

function isUnset(field: Field, value: unknown): boolean {
	if (value === undefined || value === null || value === '') return true;
	if (field.type === 'number') return value === 0;
	if (field.type === 'boolean') return value === false;
	return false;
}

function parseJsonField(name: string, value: unknown): unknown {
	if (typeof value !== 'string') return value; // an expression may give an object already
	try {
		return JSON.parse(value);
	} catch (e) {
		throw new InvalidInput(pointer(name), `JSON text (${(e as Error).message})`);
	}
}

export function inputFromParameters(action: Action, get: GetParameter): Input {
	const input: Input = {};
	for (const field of action.fields) {
		const value = get(field.name, undefined);
		if (!field.required && isUnset(field, value)) continue;
		input[field.name] = field.type === 'json' ? parseJsonField(field.name, value) : value;
	}
	if (Object.keys(action.options).length > 0) {
		const options = (get('options', {}) ?? {}) as Record<string, unknown>;
		for (const [name, key] of Object.entries(action.options)) {
			const value = options[name];
			if (value === undefined || value === null || value === '') continue;
			input[key] = value;
		}
	}
	return input;
}
