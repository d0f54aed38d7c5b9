/**
 * Reproduces the MariaDB follower skip that `LOCK IN SHARE MODE` in @es/sql's log read fixes (docs/sql.md,
 * "A follower's read on MySQL/MariaDB"), with mysql2 alone: W writers each append one row per autocommit
 * `INSERT ... SELECT ... FOR UPDATE` of a lock row (the shape of @es/sql's append), a follower polls
 * `id >= next order by id limit 1000` and checkpoints past what it saw; at the end every stored id the
 * follower never saw is a skip. Rare and load-dependent: run it with two CPU burners
 * (`node -e 'for(;;){}' &`, bounded) for a minute or more. Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && MODE=plain|locking W=16 SECONDS=60 npx tsx probes/mariadb-follower-skip.ts
 *
 * Measured on MariaDB 10.11.19, 32 writers, 2 burners, load 4-20: plain, 9 of 568,683 rows skipped over 4
 * runs of 60 s; locking, 0 of 783,457 over 5 runs. ES_MYSQL_URL is not read: the server is 127.0.0.1:3306.
 */
import mysql from 'mysql2/promise';
const mode = process.env.MODE ?? 'plain';
const W = Number(process.env.W ?? 16),
  SECONDS = Number(process.env.SECONDS ?? 30);
const name = `skip_probe_${process.pid}`;
const cfg = { host: '127.0.0.1', user: 'root', database: 'test' };
const admin = await mysql.createConnection(cfg);
await admin.query(
  `create table ${name} (id bigint auto_increment primary key, v int not null) engine=innodb`,
);
await admin.query(`create table ${name}_lock (id int primary key) engine=innodb`);
await admin.query(`insert into ${name}_lock values (1)`);
const readSql =
  mode === 'plain'
    ? `select id from ${name} where id >= ? order by id limit 1000`
    : `select id from ${name} where id >= ? order by id limit 1000 lock in share mode`;
const follower = await mysql.createConnection(cfg);
const writers = await Promise.all(Array.from({ length: W }, () => mysql.createConnection(cfg)));
const deadline = Date.now() + SECONDS * 1000;
let writing = true;
const seen: number[] = [];
let reads = 0;
const follow = (async () => {
  let next = 1;
  for (let last = false; !last;) {
    last = !writing;
    const [rows] = await follower.execute(readSql, [next]);
    reads++;
    for (const r of rows as { id: number }[]) {
      seen.push(Number(r.id));
      next = Number(r.id) + 1;
    }
  }
})();
await Promise.all(
  writers.map(async (c) => {
    while (Date.now() < deadline)
      await c.execute(
        `insert into ${name} (v) select 1 from ${name}_lock as l where l.id = 1 for update`,
        [],
      );
  }),
);
writing = false;
await follow;
const [all] = await admin.query(`select id from ${name} order by id`);
const ids = (all as { id: number }[]).map((r) => Number(r.id));
const s = new Set(seen);
const missed = ids.filter((id) => !s.has(id));
console.log(
  `${mode} W=${W} ${SECONDS}s: rows ${ids.length}, reads ${reads}, missed ${missed.length}${missed.length ? ' e.g. ' + missed.slice(0, 8).join(',') : ''}`,
);
await admin.query(`drop table ${name}`);
await admin.query(`drop table ${name}_lock`);
await Promise.all([admin, follower, ...writers].map((c) => c.end()));
