//! Building statements whose shape depends on the input (lists of values,
//! optional filters), with placeholders both backends read: `$1`, `$2`, …
//! (sqlx's own builder writes `?` on the `Any` driver, which PostgreSQL
//! refuses).

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, Arguments, Encode, FromRow, Type};

/// A statement and its arguments, written piece by piece.
pub struct Builder<'args> {
    sql: String,
    args: AnyArguments<'args>,
    count: usize,
}

impl<'args> Builder<'args> {
    pub fn new(sql: impl Into<String>) -> Self {
        Builder { sql: sql.into(), args: AnyArguments::default(), count: 0 }
    }

    /// Appends SQL text as it is.
    pub fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(self.sql, "{sql}");
        self
    }

    /// Appends a placeholder and binds the value to it.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any> + Send,
    {
        self.count += 1;
        self.sql.push('$');
        self.sql.push_str(&self.count.to_string());
        // Encoding into the `Any` buffer only records the value; it cannot fail.
        let _ = self.args.add(value);
        self
    }

    /// A list of items separated by `separator` (`a, b, c`).
    pub fn separated<'b>(&'b mut self, separator: &'static str) -> Separated<'b, 'args> {
        Separated { builder: self, separator, first: true }
    }

    /// `VALUES (…), (…)`: one parenthesised row per item, filled by `row`.
    pub fn push_values<I, F>(&mut self, items: I, mut row: F) -> &mut Self
    where
        I: IntoIterator,
        F: FnMut(Separated<'_, 'args>, I::Item),
    {
        self.sql.push_str("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.sql.push('(');
            row(self.separated(", "), item);
            self.sql.push(')');
        }
        self
    }

    /// The statement as written so far.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn build(&mut self) -> Query<'_, Any, AnyArguments<'_>> {
        sqlx::query_with(&self.sql, std::mem::take(&mut self.args))
    }

    pub fn build_query_as<T>(&mut self) -> QueryAs<'_, Any, T, AnyArguments<'_>>
    where
        T: for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_as_with(&self.sql, std::mem::take(&mut self.args))
    }

    pub fn build_query_scalar<T>(&mut self) -> QueryScalar<'_, Any, T, AnyArguments<'_>>
    where
        (T,): for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_scalar_with(&self.sql, std::mem::take(&mut self.args))
    }
}

/// Items pushed with a separator between them.
pub struct Separated<'b, 'args> {
    builder: &'b mut Builder<'args>,
    separator: &'static str,
    first: bool,
}

impl<'args> Separated<'_, 'args> {
    fn separate(&mut self) {
        if !self.first {
            self.builder.sql.push_str(self.separator);
        }
        self.first = false;
    }

    /// Appends SQL text as the next item.
    pub fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        self.separate();
        self.builder.push(sql);
        self
    }

    /// Appends a placeholder as the next item and binds the value to it.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any> + Send,
    {
        self.separate();
        self.builder.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut q = Builder::new("INSERT INTO t (a, b) ");
        q.push_values([(1_i64, "x"), (2, "y")], |mut b, (a, s)| {
            b.push_bind(a).push_bind(s);
        });
        q.push(" WHERE c IN (");
        let mut list = q.separated(", ");
        list.push_bind(3_i64);
        list.push_bind(4_i64);
        q.push(")");
        assert_eq!(q.sql(), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) WHERE c IN ($5, $6)");
    }
}
