//! Extractors shared by the pages and the API: ids from the path and the page of a listing
//! from the query. Their rejections are [`HttpError`]s, which each surface renders in its
//! own format (see `error.rs`).

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use renraku_core::{CaseId, ContactId, Cursor, IdKind, PageLimit, PageRequest};
use serde::Deserialize;

use crate::error::HttpError;
use crate::views::{MAX_TRAIL, Trail};

/// The case id of a path: a case, never [`CaseId::across_cases`] (`*`), which has routes of
/// its own (`/audit`).
fn case_id(raw: &str) -> Result<CaseId, HttpError> {
    match raw.parse::<CaseId>()? {
        case if case.is_across_cases() => Err(renraku_core::Error::InvalidId { kind: IdKind::Case }.into()),
        case => Ok(case),
    }
}

/// The case of a `/cases/{case_id}…` route.
#[derive(Debug)]
pub(crate) struct CasePath(pub(crate) CaseId);

impl<S: Send + Sync> FromRequestParts<S> for CasePath {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        #[derive(Deserialize)]
        struct Raw {
            case_id: String,
        }
        let Path(raw) = Path::<Raw>::from_request_parts(parts, state).await.map_err(HttpError::from)?;
        Ok(Self(case_id(&raw.case_id)?))
    }
}

/// The case and contact of a `/cases/{case_id}/contacts/{id}…` route.
#[derive(Debug)]
pub(crate) struct ContactPath(pub(crate) CaseId, pub(crate) ContactId);

impl<S: Send + Sync> FromRequestParts<S> for ContactPath {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        #[derive(Deserialize)]
        struct Raw {
            case_id: String,
            id: String,
        }
        let Path(raw) = Path::<Raw>::from_request_parts(parts, state).await.map_err(HttpError::from)?;
        Ok(Self(case_id(&raw.case_id)?, raw.id.parse()?))
    }
}

/// The page of a listing: `?after=<cursor>&limit=<n>`, both optional.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    after: Option<renraku_core::Cursor>,
    limit: Option<PageLimit>,
}

impl Paging {
    /// The page to fetch, `default` items long unless the query chose a limit.
    pub(crate) fn request(self, default: PageLimit) -> PageRequest {
        let limit = self.limit.unwrap_or(default);
        self.after.map_or(PageRequest::first(limit), |cursor| PageRequest::after(cursor, limit))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        #[derive(Deserialize)]
        struct Raw {
            after: Option<String>,
            limit: Option<String>,
        }
        let Query(raw) = Query::<Raw>::from_request_parts(parts, state).await.map_err(HttpError::from)?;
        let bad_limit =
            || HttpError::new(StatusCode::BAD_REQUEST, "limit must be a whole number from 1 to 500.");
        let limit = match raw.limit.as_deref() {
            None => None,
            Some(raw) => {
                Some(PageLimit::new(raw.trim().parse().map_err(|_| bad_limit())?).map_err(|_| bad_limit())?)
            }
        };
        let after = match raw.after.as_deref().filter(|a| !a.is_empty()) {
            None => None,
            Some(after) => Some(after.parse()?),
        };
        Ok(Self { after, limit })
    }
}

/// Where a page of a listing is, for the HTML pages: `?after=` (as [`Paging`]), `?back=`
/// (the cursors of the earlier pages, comma-separated, oldest first) and `?page=` (its
/// number). Links of the pages carry them; a page number that does not fit the trail is
/// corrected, since it is only shown.
impl<S: Send + Sync> FromRequestParts<S> for Trail {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        #[derive(Deserialize)]
        struct Raw {
            after: Option<String>,
            back: Option<String>,
            page: Option<String>,
        }
        let Query(raw) = Query::<Raw>::from_request_parts(parts, state).await.map_err(HttpError::from)?;
        let after: Option<Cursor> = match raw.after.as_deref().filter(|a| !a.is_empty()) {
            None => return Ok(Self { after: None, back: Vec::new(), number: 1 }),
            Some(after) => Some(after.parse()?),
        };
        let back = raw
            .back
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Cursor>, _>>()?;
        if back.len() > MAX_TRAIL {
            return Err(renraku_core::Error::InvalidId { kind: renraku_core::IdKind::Cursor }.into());
        }
        let shown = raw.page.as_deref().and_then(|p| p.trim().parse::<usize>().ok()).unwrap_or(0);
        let number = shown.clamp(back.len() + 2, 1_000_000);
        Ok(Self { after, back, number })
    }
}
