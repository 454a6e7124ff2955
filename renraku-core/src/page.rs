//! Keyset pagination: [`PageRequest`] in, [`Page`] out, [`Cursor`] between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, IdKind};
use crate::validation::{FieldError, ValidationErrors};

/// An opaque position in a listing: the page after it starts behind it.
///
/// Cursors are keyset positions, not offsets, so walking all pages returns every item
/// exactly once even while items are added. A cursor is plain text (URL-safe) so that
/// hosts can put it in links; parse it back with [`FromStr`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cursor(Uuid);

impl Cursor {
    /// The cursor after an item with this id. Backends build cursors with it.
    #[must_use]
    pub const fn after(id: Uuid) -> Self {
        Self(id)
    }

    /// The id of the last item before the page. Backends read cursors with it.
    #[must_use]
    pub const fn position(&self) -> Uuid {
        self.0
    }
}

impl FromStr for Cursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(s).map(Self).map_err(|_| Error::InvalidId { kind: IdKind::Cursor })
    }
}

impl TryFrom<String> for Cursor {
    type Error = Error;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Cursor> for String {
    fn from(cursor: Cursor) -> Self {
        cursor.to_string()
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

/// How many items a page holds: 1 to [`PageLimit::MAX`].
///
/// ```
/// use renraku_core::PageLimit;
///
/// assert_eq!(PageLimit::new(50)?.get(), 50);
/// assert!(PageLimit::new(0).is_err());
/// assert!(PageLimit::new(501).is_err());
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct PageLimit(u16);

impl PageLimit {
    /// The largest page.
    pub const MAX: Self = Self(500);
    /// The page size used when a caller does not choose one.
    pub const DEFAULT: Self = Self(50);

    /// Checks that `limit` is between 1 and 500.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the field `limit`.
    pub fn new(limit: u32) -> Result<Self, Error> {
        match u16::try_from(limit) {
            Ok(n) if (1..=Self::MAX.0).contains(&n) => Ok(Self(n)),
            _ => {
                Err(ValidationErrors::from(FieldError::new("limit", "range", "must be between 1 and 500"))
                    .into())
            }
        }
    }

    /// A limit of `limit` items, clamped to 1 to 500: for limits a program chooses, in
    /// constants.
    ///
    /// ```
    /// use renraku_core::PageLimit;
    ///
    /// const PAGE: PageLimit = PageLimit::clamped(20);
    /// assert_eq!(PAGE.get(), 20);
    /// assert_eq!(PageLimit::clamped(0).get(), 1);
    /// ```
    #[must_use]
    pub const fn clamped(limit: u16) -> Self {
        if limit == 0 {
            Self(1)
        } else if limit > Self::MAX.0 {
            Self::MAX
        } else {
            Self(limit)
        }
    }

    /// The limit as a number.
    #[must_use]
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u32> for PageLimit {
    type Error = Error;

    fn try_from(limit: u32) -> Result<Self, Self::Error> {
        Self::new(limit)
    }
}

impl From<PageLimit> for u32 {
    fn from(limit: PageLimit) -> Self {
        limit.0.into()
    }
}

/// Which page to fetch: the first, or the one after a [`Cursor`].
///
/// ```
/// use renraku_core::{PageLimit, PageRequest};
///
/// let first = PageRequest::first(PageLimit::new(20)?);
/// assert!(first.after.is_none());
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// The page starts after this position; `None` for the first page.
    pub after: Option<Cursor>,
    /// How many items the page holds at most.
    pub limit: PageLimit,
}

impl PageRequest {
    /// The first page.
    #[must_use]
    pub const fn first(limit: PageLimit) -> Self {
        Self { after: None, limit }
    }

    /// The page after `cursor`.
    #[must_use]
    pub const fn after(cursor: Cursor, limit: PageLimit) -> Self {
        Self { after: Some(cursor), limit }
    }

    /// The page that follows `page`, if there is one.
    #[must_use]
    pub fn next<T>(&self, page: &Page<T>) -> Option<Self> {
        page.next.map(|cursor| Self::after(cursor, self.limit))
    }

    /// Fetches this page and every page after it with `fetch`, and returns their items page
    /// by page: the one loop that walks a listing.
    ///
    /// ```
    /// use renraku_core::{Actor, CaseId, ContactRepository, PageLimit, PageRequest};
    ///
    /// async fn count(repo: &dyn ContactRepository, case: &CaseId, clerk: &Actor) -> renraku_core::Result<usize> {
    ///     let pages = PageRequest::first(PageLimit::MAX).walk(|page| repo.list(case, page, clerk)).await?;
    ///     Ok(pages.iter().map(Vec::len).sum())
    /// }
    /// ```
    ///
    /// # Errors
    /// The first error of `fetch`.
    pub async fn walk<T, E, F>(self, mut fetch: impl FnMut(Self) -> F) -> Result<Vec<Vec<T>>, E>
    where
        F: Future<Output = Result<Page<T>, E>>,
    {
        let mut request = self;
        let mut pages = Vec::new();
        loop {
            let page = fetch(request).await?;
            let next = request.next(&page);
            pages.push(page.items);
            match next {
                Some(next) => request = next,
                None => return Ok(pages),
            }
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in listing order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` items in listing order: the extra item only says
    /// that there is a next page. This is how every backend pages: ask for one more.
    ///
    /// ```
    /// use renraku_core::{Cursor, Page, PageLimit};
    /// use uuid::Uuid;
    ///
    /// let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    /// let page = Page::from_overfetch(ids.clone(), PageLimit::new(2)?, |id| *id);
    /// assert_eq!(page.items, ids[..2]);
    /// assert_eq!(page.next, Some(Cursor::after(ids[1])));
    /// # Ok::<(), renraku_core::Error>(())
    /// ```
    pub fn from_overfetch(mut items: Vec<T>, limit: PageLimit, position: impl Fn(&T) -> Uuid) -> Self {
        let more = items.len() > limit.get();
        items.truncate(limit.get());
        let next = if more { items.last().map(|last| Cursor::after(position(last))) } else { None };
        Self { items, next }
    }

    /// An empty last page.
    #[must_use]
    pub const fn empty() -> Self {
        Self { items: Vec::new(), next: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_as_text() {
        let cursor = Cursor::after(Uuid::now_v7());
        assert_eq!(cursor.to_string().parse::<Cursor>().unwrap(), cursor);
        let json = serde_json::to_string(&cursor).unwrap();
        assert_eq!(serde_json::from_str::<Cursor>(&json).unwrap(), cursor);
        assert!(matches!("bogus".parse::<Cursor>(), Err(Error::InvalidId { kind: IdKind::Cursor })));
    }

    #[test]
    fn limits_are_bounded() {
        assert!(PageLimit::new(1).is_ok());
        assert!(PageLimit::new(500).is_ok());
        for bad in [0, 501, 70_000, u32::MAX] {
            let err = PageLimit::new(bad).unwrap_err();
            let errors = err.validation_errors().unwrap();
            assert_eq!(errors.iter().next().unwrap().field, "limit");
        }
    }

    #[test]
    fn overfetch_without_extra_is_the_last_page() {
        let ids: Vec<Uuid> = (0..2).map(|_| Uuid::now_v7()).collect();
        let page = Page::from_overfetch(ids.clone(), PageLimit::new(2).unwrap(), |id| *id);
        assert_eq!(page.items, ids);
        assert_eq!(page.next, None);
    }
}
