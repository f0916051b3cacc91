// The actions of the generated tables (generated/actions.json, from schemas/ by threecx-codegen),
// looked up by resource and action name in any spelling, as the threecx CLI does.

import actionsFile from '../generated/actions.json';

export type Location = 'path' | 'query' | 'header' | 'body' | 'entity';
export type OutputKind = 'json' | 'collection' | 'empty' | 'download';
export type FieldType = 'string' | 'number' | 'boolean' | 'options' | 'json';

export interface Param {
	name: string;
	location: Location;
	/** `quoted` or `bare` for path parameters, else null. */
	literal: 'quoted' | 'bare' | null;
	required: boolean;
}

export interface Field {
	name: string;
	type: FieldType;
	required: boolean;
}

export interface Action {
	name: string;
	resource: string;
	display_name: string;
	method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
	path: string;
	kind: string;
	params: Param[];
	input_schema: Record<string, unknown>;
	output: OutputKind;
	destructive: boolean;
	retry_safe: boolean;
	paged: boolean;
	/** The node's fields for this action (input keys that are not OData query options). */
	fields: Field[];
	/** The node's query options: option name → input key (`filter` → `$filter`). */
	options: Record<string, string>;
}

interface Resource {
	name: string;
	display_name: string;
	actions: string[];
}

interface ActionsFile {
	threecx_version: string;
	resources: Resource[];
	actions: Record<string, Omit<Action, 'name'>>;
}

const table = actionsFile as unknown as ActionsFile;

export const THREECX_VERSION: string = table.threecx_version;

/** Lookup form: ASCII letters and digits only, lower-cased (`Purge Settings` → `purgesettings`). */
export function normalise(name: string): string {
	return name.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
}

/** A name that matches no resource or action; `suggestions` are the closest known names. */
export class UnknownName extends Error {
	constructor(
		readonly what: 'resource' | 'action',
		readonly given: string,
		readonly suggestions: string[],
	) {
		const hint = suggestions.length ? ` (did you mean: ${suggestions.join(', ')}?)` : '';
		super(`unknown ${what} "${given}"${hint}`);
	}
}

export function action(name: string): Action {
	const entry = table.actions[name];
	if (!entry) throw new UnknownName('action', name, []);
	return { name, ...entry };
}

/** The action `actionName` of `resourceName`, both in any spelling. */
export function find(resourceName: string, actionName: string): Action {
	const resources = table.resources;
	const r = resources.find((x) => normalise(x.name) === normalise(resourceName));
	if (!r) {
		throw new UnknownName(
			'resource',
			resourceName,
			closest(
				resourceName,
				resources.map((x) => x.name),
			),
		);
	}
	const a = r.actions.find((x) => normalise(x) === normalise(actionName));
	if (!a) throw new UnknownName('action', actionName, closest(actionName, r.actions));
	return action(a);
}

/** Up to three names closest to `given` (by edit distance of the normalised forms). */
function closest(given: string, names: string[]): string[] {
	const g = normalise(given);
	return names
		.map((n) => ({ n, d: distance(g, normalise(n)) }))
		.filter(({ n, d }) => d <= Math.max(3, Math.floor(normalise(n).length / 3)) || normalise(n).includes(g))
		.sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
		.slice(0, 3)
		.map(({ n }) => n);
}

function distance(a: string, b: string): number {
	let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		const cur = [i];
		for (let j = 1; j <= b.length; j++) {
			cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
		}
		prev = cur;
	}
	return prev[b.length];
}

export function resourceCount(): number {
	return table.resources.length;
}

export function actionCount(): number {
	return Object.keys(table.actions).length;
}
