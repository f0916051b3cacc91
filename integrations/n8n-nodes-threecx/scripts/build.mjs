// Builds dist/: the node, the credential and the dry-run entry point, each one CommonJS file with
// the runtime and its validator (Ajv) bundled in, so the package has no runtime dependency but
// n8n-workflow, which n8n itself provides.
// With --tests, builds test/*.test.ts into dist-test/ instead (for `npm test`).
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';

const common = {
	bundle: true,
	platform: 'node',
	target: 'node20',
	format: 'cjs',
	external: ['n8n-workflow'],
	legalComments: 'linked',
	logLevel: 'warning',
};
if (process.argv.includes('--tests')) {
	rmSync('dist-test', { recursive: true, force: true });
	const tests = readdirSync('test').filter((f) => f.endsWith('.test.ts'));
	await build({ ...common, entryPoints: tests.map((f) => `test/${f}`), outdir: 'dist-test' });
	process.exit(0);
}

rmSync('dist', { recursive: true, force: true });
await build({
	...common,
	entryPoints: {
		'nodes/ThreeCx/ThreeCx.node': 'nodes/ThreeCx/ThreeCx.node.ts',
		'credentials/ThreeCxApi.credentials': 'credentials/ThreeCxApi.credentials.ts',
		'dry-run': 'src/dry-run.ts',
	},
	outdir: 'dist',
});
mkdirSync('dist/nodes/ThreeCx', { recursive: true });
cpSync('nodes/ThreeCx/threecx.svg', 'dist/nodes/ThreeCx/threecx.svg');
cpSync('nodes/ThreeCx/ThreeCx.node.json', 'dist/nodes/ThreeCx/ThreeCx.node.json');
mkdirSync('dist/credentials', { recursive: true });
cpSync('nodes/ThreeCx/threecx.svg', 'dist/credentials/threecx.svg');
