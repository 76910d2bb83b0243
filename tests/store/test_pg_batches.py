"""How the PostgreSQL backend turns executemany of an INSERT into a few multi-row statements."""

from __future__ import annotations

from bot.store.pg_sql import EXACT_BATCH, MAX_BATCH, MAX_PARAMS, _batch_size, batched_insert, insert_rows

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
