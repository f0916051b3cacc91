// Prints, as one JSON line, the newest execution stored in an n8n user folder: its status, the
// run's error, and per node its status, error and output items (json and binary). Reads the
// SQLite database with the sqlite3 and flatted modules of n8n's own install (nothing else to
// install); `n8n execute` itself may fail to print a run whose error holds circular data.
//
//   node read-run.js N8N_INSTALL_DIR N8N_USER_FOLDER [EXECUTION_ID]
'use strict';
const path = require('path');

const [installDir, userFolder, wantId] = process.argv.slice(2);
const modules = path.join(installDir, 'node_modules');
const sqlite3 = require(path.join(modules, 'sqlite3'));
const { parse } = require(path.join(modules, 'flatted'));

const db = new sqlite3.Database(path.join(userFolder, '.n8n', 'database.sqlite'), sqlite3.OPEN_READONLY);
const sql = `SELECT e.id, e.status, e.workflowId, d.data FROM execution_entity e
             JOIN execution_data d ON d.executionId = e.id ${wantId ? 'WHERE e.id = ?' : ''}
             ORDER BY e.id DESC LIMIT 1`;
db.get(sql, wantId ? [wantId] : [], (err, row) => {
	if (err || !row) {
		console.error(err ? err.message : 'no execution stored');
		process.exit(2);
	}
	const result = parse(row.data).resultData;
	const pick = (e) =>
		e && { name: e.name ?? null, message: e.message ?? null, description: e.description ?? null, httpCode: e.httpCode ?? null };
	const nodes = {};
	for (const [name, runs] of Object.entries(result.runData || {})) {
		const last = runs[runs.length - 1];
		nodes[name] = {
			status: last.executionStatus,
			error: pick(last.error),
			items: (last.data?.main?.[0] || []).map((i) => ({ json: i.json, binary: i.binary })),
		};
	}
	console.log(
		JSON.stringify({
			id: row.id,
			status: row.status,
			workflowId: row.workflowId,
			error: pick(result.error),
			lastNodeExecuted: result.lastNodeExecuted,
			nodes,
		}),
	);
	db.close();
});
