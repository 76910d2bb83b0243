"""How the PostgreSQL backend turns executemany of an INSERT into a few multi-row statements, and
which statements run under which plan cache mode."""

from __future__ import annotations

from bot.store import Store
from bot.store.pg_sql import EXACT_BATCH, MAX_BATCH, MAX_PARAMS, _batch_size, batched_insert, insert_rows, plan_free

DELIVERY = ("INSERT INTO deliveries (channel_id, article_id, state, created) VALUES (?, ?, 'skipped', ?) "
            "ON CONFLICT DO NOTHING")


def test_an_insert_of_rows_is_split_into_head_row_and_tail() -> None:
    head, row, tail = batched_insert(DELIVERY)
    assert head.endswith("VALUES ") and row == "(?, ?, 'skipped', ?)" and tail == " ON CONFLICT DO NOTHING"
    assert batched_insert("INSERT INTO x (a, b) VALUES (coalesce(?, 'a)'), ?)")[1] == "(coalesce(?, 'a)'), ?)"


def test_statements_that_must_run_row_by_row_are_left_alone() -> None:
    for sql in ("INSERT INTO x (a) VALUES (?) ON CONFLICT (a) DO UPDATE SET a = excluded.a",
                "INSERT INTO x (a) VALUES (?) RETURNING id",
                "INSERT INTO x (a, b) SELECT ?, b FROM y",
                "INSERT INTO x (a) VALUES (?) ON CONFLICT (a) DO NOTHING WHERE a > ?",
                "UPDATE x SET a = ? WHERE id = ?",
                "DELETE FROM x WHERE id = ?"):
        assert batched_insert(sql) is None, sql


def test_rows_are_numbered_in_order_and_literals_stay() -> None:
    assert insert_rows(DELIVERY, 2) == (
        "INSERT INTO deliveries (channel_id, article_id, state, created) VALUES "
        "($1, $2, 'skipped', $3), ($4, $5, 'skipped', $6) ON CONFLICT DO NOTHING")


def test_batch_sizes_take_small_batches_whole_and_stay_under_the_parameter_limit() -> None:
    assert _batch_size(20, 4) == 20 and _batch_size(EXACT_BATCH, 4) == EXACT_BATCH
    assert _batch_size(EXACT_BATCH + 1, 4) == EXACT_BATCH  # then a power of two
    assert _batch_size(5000, 4) == MAX_BATCH
    wide = 200
    assert _batch_size(5000, wide) * wide <= MAX_PARAMS
    sizes, left = [], 1234
    while left:
        sizes.append(_batch_size(left, 11))
        left -= sizes[-1]
    assert sum(sizes) == 1234 and len(set(sizes)) <= 4


def test_only_an_insert_of_values_counts_as_free_of_a_plan() -> None:
    assert plan_free(DELIVERY)
    assert plan_free("insert into summaries (a, b) values (?, ?) on conflict (a) do update set b = excluded.b")
    for sql in ("INSERT INTO x (a, b) SELECT ?, b FROM y",
                "INSERT INTO x (a) VALUES ((SELECT MAX(a) FROM x))",
                "SELECT a FROM x WHERE a IN (?, ?)",
                "UPDATE x SET a = ? WHERE id = ?",
                "DELETE FROM x WHERE id = ?",
                "WITH v AS (SELECT 1) INSERT INTO x (a) VALUES (?)"):
        assert not plan_free(sql), sql


async def test_a_values_insert_runs_under_auto_and_every_other_statement_under_custom_plans(postgres_url: str) -> None:
    """The mode each statement actually ran under, as the server saw it (current_setting inside
    the statement): inserts of values let their foreign-key checks reuse cached plans, every
    query is still planned for its own values, and the next transaction starts afresh."""
    async with Store(postgres_url) as store:
        async with store.db.transaction() as conn:
            await conn.execute("CREATE TEMP TABLE seen (n BIGINT, mode TEXT)")
            await conn.execute("INSERT INTO seen (n, mode) VALUES (?, current_setting('plan_cache_mode'))", (1,))
            await conn.executemany("INSERT INTO seen (n, mode) VALUES (?, current_setting('plan_cache_mode'))",
                                   [(2,), (3,)])
            async with conn.execute("SELECT current_setting('plan_cache_mode')") as cur:
                between = (await cur.fetchone())[0]
            await conn.execute("INSERT INTO seen (n, mode) VALUES (?, current_setting('plan_cache_mode'))", (4,))
            await conn.execute("UPDATE seen SET mode = mode || '/' || current_setting('plan_cache_mode') WHERE n = ?",
                               (4,))
            async with conn.execute("SELECT n, mode FROM seen ORDER BY n") as cur:
                rows = [tuple(r) for r in await cur.fetchall()]
        assert between == "force_custom_plan"
        assert rows == [(1, "auto"), (2, "auto"), (3, "auto"), (4, "auto/force_custom_plan")]
        assert await store.db.scalar("SELECT current_setting('plan_cache_mode')") == "force_custom_plan"


async def test_a_connection_goes_back_to_the_pool_with_nothing_of_its_transaction(postgres_url: str) -> None:
    """Connections are released without asyncpg's reset query, so nothing a transaction set may
    outlive it: one connection in the pool, used by a transaction that switched its plan mode and
    took the fleet write lock, then by one that took key locks and failed half-way, then read again."""
    from bot.store.postgres import PostgresDatabase

    db = PostgresDatabase(postgres_url, pool_size=1)
    await db.open()
    try:
        async with db.transaction(durable=False) as conn:
            await conn.execute("CREATE TABLE t (n BIGINT)")
            await conn.execute("INSERT INTO t (n) VALUES (?)", (1,))
        try:
            async with db.transaction(keys=["feed:1"]) as conn:
                await conn.execute("INSERT INTO t (n) VALUES (?)", (2,))
                raise RuntimeError("half-way")
        except RuntimeError:
            pass
        row = await db.fetchone(
            "SELECT current_setting('plan_cache_mode'), current_setting('synchronous_commit'), "
            "(SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), "
            "(SELECT array_agg(n ORDER BY n) FROM t), txid_current_if_assigned() IS NULL")
        assert tuple(row) == ("force_custom_plan", "on", 0, [1], True)
    finally:
        await db.close()
