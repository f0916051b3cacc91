// `node dist/dry-run.js RESOURCE ACTION 'INPUT_JSON'`: prints, as JSON, the request the node would
// send for that input, in the form of `threecx call RESOURCE ACTION --input INPUT_JSON --dry-run
// --output json` (Authorization redacted). Names in any spelling the CLI accepts; the base URL
// from THREECX_URL. Exit 2 with a message on stderr for unknown names or invalid input; nothing
// is sent, no credentials are needed.
//
// `--batch` reads one JSON array `[resource, action, input]` per line on stdin and writes one
// JSON line per request (or `{"error": ...}`), for tests that compare many actions.

import { find, UnknownName } from './catalog';
import { dryRun, prepare } from './call';
import { InvalidInput } from './errors';
import { apiRoot, BadUrl, normaliseBaseUrl } from './url';

function root(): string {
	const url = process.env.THREECX_URL;
	return url ? apiRoot(normaliseBaseUrl(url)) : 'https://<THREECX_URL>/xapi/v1';
}

function one(resource: string, action: string, inputText: string, base: string): Record<string, unknown> {
	let input: unknown;
	try {
		input = JSON.parse(inputText);
	} catch (e) {
		throw new Usage(`the input is not valid JSON: ${(e as Error).message}`);
	}
	return dryRun(prepare(find(resource, action), input), base);
}

class Usage extends Error {}

function main(argv: string[]): number {
	try {
		const base = root();
		if (argv[0] === '--batch') {
			const lines = require('node:fs').readFileSync(0, 'utf8').split('\n').filter((l: string) => l.trim());
			const out: string[] = [];
			for (const line of lines) {
				const [resource, action, input] = JSON.parse(line) as [string, string, unknown];
				try {
					out.push(JSON.stringify(one(resource, action, JSON.stringify(input), base)));
				} catch (e) {
					out.push(JSON.stringify({ error: (e as Error).message }));
				}
			}
			process.stdout.write(out.join('\n') + '\n');
			return 0;
		}
		if (argv.length < 2 || argv.length > 3) {
			throw new Usage("usage: node dist/dry-run.js RESOURCE ACTION ['INPUT_JSON']   (THREECX_URL sets the PBX URL)");
		}
		const request = one(argv[0], argv[1], argv[2] ?? '{}', base);
		process.stdout.write(JSON.stringify(request, null, 2) + '\n');
		return 0;
	} catch (e) {
		if (e instanceof Usage || e instanceof UnknownName || e instanceof InvalidInput || e instanceof BadUrl) {
			process.stderr.write(`error: ${e.message}\n`);
			return 2;
		}
		throw e;
	}
}

process.exitCode = main(process.argv.slice(2));
