//! The search text of a queue view: a business key, or words matched
//! through the full-text index of each exception's words, and how common
//! they are (which decides how a view reads them).

use anyhow::Context;
use crossdock::search::Words;
use crossdock::triage::QueueFilter;

use crate::store::{Backend, Pool};

/// How a view's search text is matched.
pub enum TextMatch {
    /// It is a business key of some exception: match that key exactly.
    Key(String),
    /// Otherwise its words, through the full-text index of each
    /// exception's words: on SQLite an FTS5 query, `common` when it is found
    /// in so many exceptions that reading the view in its order and looking
    /// each row up in the index beats collecting every match first. A row
    /// is looked up only once its text passed `sieve` ([`Words::ascii_globs`]),
    /// which costs a fraction of a lookup.
    Fts5 { query: String, common: bool, sieve: Vec<String> },
    /// On PostgreSQL a text query, `common` as on SQLite: the planner,
    /// whose estimate of a prefix can be far off, is not left to choose.
    TsQuery { query: String, common: bool },
    /// Nothing can match (no letter or digit, or a prefix no word begins).
    Nothing,
}

/// From how many matches words count as common (see [`TextMatch::Fts5`]):
/// a tenth of all exceptions, and at most this many.
const COMMON_WORDS: i64 = 20_000;

/// How many of the newest exceptions are looked at first to tell common
/// words: found often enough among them, they are taken as common without
/// counting (counting reads long lists of places); otherwise the matches
/// are counted, up to [`COMMON_WORDS`].
const SAMPLE: i64 = 2_000;

/// The most tokens a typed prefix is spelled out into; a prefix that begins
/// more is asked as a prefix.
const SPELLED_OUT: i64 = 32;

/// The tokens of the index that begin with `$1`, stepping from one to the
/// next: at most `$2 + 1`.
const TOKENS_BEGUN: &str = "WITH RECURSIVE t(term, n) AS ( \
       SELECT (SELECT i.term FROM exception_words_terms i WHERE i.term >= $1 LIMIT 1), 0 \
       UNION ALL \
       SELECT (SELECT i.term FROM exception_words_terms i WHERE i.term >= t.term || char(1) LIMIT 1), t.n + 1 \
       FROM t WHERE substr(t.term, 1, length($1)) = $1 AND t.n < $2) \
     SELECT term FROM t WHERE substr(term, 1, length($1)) = $1";

/// `words` as an FTS5 query whose prefixes are spelled out into the tokens
/// they begin where those are few (a query of whole tokens reads only their
/// places); `None` when a prefix begins no token at all.
async fn fts5_query(pool: &Pool, words: &Words) -> anyhow::Result<Option<String>> {
    let mut parts = Vec::new();
    for word in words.iter() {
        if !word.is_prefix() {
            parts.push(word.fts5_phrase(&word.last));
            continue;
        }
        let begun: Vec<String> = sqlx::query_scalar(TOKENS_BEGUN)
            .bind(word.last.to_lowercase())
            .bind(SPELLED_OUT)
            .fetch_all(pool)
            .await
            .context("Failed to spell out a prefix")?;
        if begun.is_empty() {
            return Ok(None);
        }
        if begun.len() as i64 > SPELLED_OUT {
            parts.push(format!("{}*", word.fts5_phrase(&word.last)));
        } else {
            let phrases: Vec<String> = begun.iter().map(|t| word.fts5_phrase(t)).collect();
            parts.push(format!("({})", phrases.join(" OR ")));
        }
    }
    Ok(Some(parts.join(" AND ")))
}

/// Decides how to match a view's search text: a known business key is
/// matched through its index; anything else as words.
pub(super) async fn text_match(pool: &Pool, filter: &QueueFilter) -> anyhow::Result<Option<TextMatch>> {
    let Some(text) = filter.text.clone() else { return Ok(None) };
    let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM exception_refs WHERE value = $1 LIMIT 1")
        .bind(&text)
        .fetch_optional(pool)
        .await
        .context("Failed to look up a business key")?;
    if known.is_some() {
        return Ok(Some(TextMatch::Key(text)));
    }
    let Some(words) = Words::parse(&text) else { return Ok(Some(TextMatch::Nothing)) };
    let backend = Backend::of(pool);
    let query = match backend {
        Backend::Postgres => words.tsquery(),
        Backend::Sqlite => match fts5_query(pool, &words).await? {
            Some(query) => query,
            None => return Ok(Some(TextMatch::Nothing)),
        },
    };
    let common = common_words(pool, backend, &query).await?;
    Ok(Some(match backend {
        Backend::Sqlite => TextMatch::Fts5 { query, common, sieve: words.ascii_globs() },
        Backend::Postgres => TextMatch::TsQuery { query, common },
    }))
}

/// Whether words (as the backend's query) are common: found in a tenth of
/// all exceptions or [`COMMON_WORDS`], whichever is fewer. The newest
/// [`SAMPLE`] exceptions are looked at first; words that are common among
/// them are taken as common, and the others counted.
async fn common_words(pool: &Pool, backend: Backend, query: &str) -> anyhow::Result<bool> {
    let sample = backend.pick(
        "SELECT 1 FROM exception_words WHERE exception_words MATCH $1 \
         AND rowid > (SELECT COALESCE(MAX(id), 0) FROM exceptions) - $2",
        // The newest rows by their key first, so that the planner cannot
        // turn it into a read of the word index.
        "SELECT 1 FROM (SELECT w.own, w.notes FROM exception_words w \
           WHERE w.exception_id > (SELECT COALESCE(MAX(id), 0) FROM exceptions) - $2 \
           ORDER BY w.exception_id LIMIT $2) n \
         WHERE (n.own || n.notes) @@ to_tsquery('simple', $1)",
    );
    let (sampled, all): (i64, i64) = sqlx::query_as(&format!(
        "SELECT (SELECT COUNT(*) FROM ({sample}) m), (SELECT COALESCE(MAX(id), 0) FROM exceptions)"
    ))
    .bind(query)
    .bind(SAMPLE)
    .persistent(matches!(backend, Backend::Sqlite))
    .fetch_one(pool)
    .await
    .context("Failed to look for words among the newest exceptions")?;
    let threshold = COMMON_WORDS.min(all / 10).max(1);
    if sampled * all / SAMPLE.min(all).max(1) >= threshold {
        return Ok(true);
    }
    let matches = backend.pick(
        "SELECT 1 FROM exception_words WHERE exception_words MATCH $1 LIMIT $2",
        "SELECT 1 FROM exception_words w WHERE (w.own || w.notes) @@ to_tsquery('simple', $1) LIMIT $2",
    );
    let found: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM ({matches}) m"))
        .bind(query)
        .bind(threshold)
        .persistent(matches!(backend, Backend::Sqlite))
        .fetch_one(pool)
        .await
        .context("Failed to count the matches of words")?;
    Ok(found >= threshold)
}

/// Merges the word index into one piece on SQLite, where each write adds a
/// small piece of its own and a lookup of a row reads every piece; a no-op
/// when nothing was written since, and on PostgreSQL (whose GIN index is
/// kept by its own vacuum). Takes the write lock for about a second per
/// million exceptions.
pub async fn tidy_words(pool: &Pool) -> anyhow::Result<()> {
    if Backend::of(pool) == Backend::Sqlite {
        sqlx::query("INSERT INTO exception_words (exception_words) VALUES ('optimize')")
            .execute(pool)
            .await
            .context("Failed to merge the word index")?;
    }
    Ok(())
}
