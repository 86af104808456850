// The operator CLI: `npm run admin -w @spillway/gateway -- <command>`; talks to the database only.
import { env, loadConfigOrExit, z } from '@spillway/config';
import { AdministerTenants } from './application/administer-tenants/administer-tenants.use-case.js';
import { runAdminCli } from './adapters/cli/admin.cli.js';
import { openDatabase } from './adapters/persistence/database.js';
import { PgTenantDirectory } from './adapters/persistence/pg-tenant-directory.js';
import { cryptoRandom, systemClock } from './adapters/system/system-clock.js';
import { gatewayConfigSchema } from './config.js';

const adminConfigSchema = z.object({
  DATABASE_URL: gatewayConfigSchema.shape.DATABASE_URL,
  GATEWAY_DATABASE_AUTOCREATE: env.bool(true),
});

async function main(): Promise<number> {
  const config = loadConfigOrExit('gateway-admin', adminConfigSchema);
  const pool = await openDatabase({
    url: config.DATABASE_URL,
    autocreate: config.GATEWAY_DATABASE_AUTOCREATE,
    maxConnections: 2,
  });
  try {
    const admin = new AdministerTenants(new PgTenantDirectory(pool), cryptoRandom, systemClock);
    return await runAdminCli(process.argv.slice(2), admin, {
      out: (text) => process.stdout.write(`${text}\n`),
      err: (text) => process.stderr.write(`${text}\n`),
    });
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `gateway admin failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
