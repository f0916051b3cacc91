// Builds dist/: the node, the credential and the dry-run entry point, each one CommonJS file with
// the runtime and its validator (Ajv) bundled in, so the package has no runtime dependency but
// n8n-workflow, which n8n itself provides.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const common = {
	bundle: true,
	platform: 'node',
	target: 'node20',
	format: 'cjs',
	external: ['n8n-workflow'],
	legalComments: 'linked',
	logLevel: 'warning',
};
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
