//! Small SQL text helpers shared by every module's store.

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` parameters, numbered in order of appearance
/// (SQLite reads `$N` by first appearance, PostgreSQL by number: in order, both agree). For
/// multi-row `VALUES` lists in statements that run on both engines.
pub fn placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// Batches of up to this many rows keep their prepared statement per connection; larger ones
/// are prepared for each use. Every batch size is a different statement text, and a 30-row
/// statement's compiled program is large: caching every size made the SQLite writer's memory
/// creep up for minutes as rarer sizes appeared (the soak run), for a prepare that costs less
/// than the batch's own work.
pub const CACHED_ROWS: usize = 4;

/// A statement whose text depends on how many rows it carries (a multi-row `VALUES`, an
/// `IN (...)` list): kept prepared only for small row counts ([`CACHED_ROWS`]).
pub fn multi_row(
    sql: String,
    rows: usize,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(rows <= CACHED_ROWS)
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(placeholders(1, 2), "($1, $2)");
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
