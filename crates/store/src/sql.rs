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

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(placeholders(1, 2), "($1, $2)");
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
