//! CSV in and out of a case.
//!
//! - `GET /cases/{case_id}/contacts.csv`: the case's contacts as CSV (UTF-8, a header row of
//!   the field names), streamed page by page from the store: the server holds one page of
//!   contacts at a time, however large the case. Cells that a spreadsheet would run as a
//!   formula are neutralized (see [`neutralize`]).
//! - `GET|POST /cases/{case_id}/import`: a CSV file (multipart form) imported into the case
//!   all-or-nothing through `create_many` (then a redirect to the case, with a flash); every
//!   invalid row is named on the page by its line and column. The logs get counts only, never a value.

use std::borrow::Cow;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt as _;
use renraku_core::access::Action;
use renraku_core::{
    Actor, CaseId, Contact, ContactField, ContactRepository as _, Error, NewContact, PageLimit, PageRequest,
};

use crate::AppState;
use crate::access::{Guarded, require};
use crate::auth::Session;
use crate::error::HttpError;
use crate::extract::CasePath;
use crate::views::Layout;

/// The largest CSV file an import accepts (the whole multipart body).
pub(crate) const IMPORT_LIMIT: usize = 4 * 1024 * 1024;

/// The most contacts one import creates.
pub(crate) const MAX_IMPORT_ROWS: usize = 10_000;

/// How many contacts the export reads from the store at a time.
const EXPORT_PAGE: PageLimit = PageLimit::MAX;

/// The routes of the CSV export and import.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/cases/{case_id}/contacts.csv", get(export)).route(
        "/cases/{case_id}/import",
        get(import_page).post(import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
    )
}

/// Whether `path` is the import's (`/cases/{case_id}/import`), whose body may be up to
/// [`IMPORT_LIMIT`] rather than the server's usual limit.
pub(crate) fn is_import(path: &str) -> bool {
    path.strip_prefix("/cases/")
        .and_then(|rest| rest.strip_suffix("/import"))
        .is_some_and(|case| !case.is_empty() && !case.contains('/'))
}

/// The characters that make a spreadsheet read a cell as a formula (OWASP's list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as the export writes it: a value starting with a formula character (or with the
/// quote itself, so that the import can tell) gets a leading `'`, which spreadsheets show
/// as text and do not run (OWASP's rule against CSV injection).
pub(crate) fn neutralize(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some(first) if FORMULA_STARTS.contains(&first) || first == '\'' => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// A cell as the import reads it: the export's leading `'` before a formula character or a
/// quote is taken off again, so that an exported file imports as the same contacts.
pub(crate) fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

/// The CSV of `contacts`, after the header row if `header`.
fn csv_chunk(contacts: &[Contact], header: bool) -> Result<Bytes, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(contacts.len() * 128 + 128));
    if header {
        writer.write_record(ContactField::ALL.map(ContactField::name))?;
    }
    for contact in contacts {
        for field in ContactField::ALL {
            writer.write_field(neutralize(contact.field(field).unwrap_or("")).as_bytes())?;
        }
        writer.write_record(None::<&[u8]>)?;
    }
    let bytes = writer.into_inner().map_err(|err| csv::Error::from(err.into_error()))?;
    Ok(Bytes::from(bytes))
}

/// Where the export stands between two chunks of the body.
struct Export {
    store: Guarded,
    case_id: CaseId,
    actor: Actor,
    next: Option<PageRequest>,
}

/// The next chunk of the export: the CSV of the next page, or the end.
async fn next_chunk(export: Option<Export>) -> Option<(Result<Bytes, std::io::Error>, Option<Export>)> {
    let mut export = export?;
    let request = export.next?;
    let page = match export.store.list(&export.case_id, request, &export.actor).await {
        Ok(page) => page,
        Err(err) => {
            // The response has begun: all that is left is to cut it off, which the client
            // sees as an incomplete download.
            tracing::error!(error = %err, "the CSV export failed midway");
            return Some((Err(std::io::Error::other("the CSV export failed")), None));
        }
    };
    export.next = request.next(&page);
    match csv_chunk(&page.items, false) {
        Ok(bytes) => Some((Ok(bytes), Some(export))),
        Err(err) => {
            tracing::error!(error = %err, "a CSV row could not be written");
            Some((Err(std::io::Error::other("the CSV export failed")), None))
        }
    }
}

/// `GET /cases/{case_id}/contacts.csv`. The first page is read before the answer starts, so
/// that a store that is down still answers with an error page; the rest streams.
async fn export(session: Session, CasePath(case_id): CasePath) -> Result<Response, HttpError> {
    let first = PageRequest::first(EXPORT_PAGE);
    let page = session.store.list(&case_id, first, &session.actor).await?;
    let head = csv_chunk(&page.items, true).map_err(|err| {
        tracing::error!(error = %err, "a CSV row could not be written");
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "The export could not be written.")
    })?;
    let rest = Export {
        next: first.next(&page),
        store: session.store,
        case_id: case_id.clone(),
        actor: session.actor,
    };
    let body = futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(head)))
        .chain(futures_util::stream::unfold(Some(rest), next_chunk));
    let disposition = format!("attachment; filename=\"case-{case_id}-contacts.csv\"");
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    // Case ids are letters, digits and `-_.:`: a valid header value as they are.
    if let Ok(disposition) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// One reason why an import was refused: where, and what. Never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The line of the file (1 is the header row); `None` for the file as a whole.
    pub(crate) line: Option<u64>,
    /// The column: a field's label, or what the problem is about.
    pub(crate) column: String,
    pub(crate) message: String,
}

impl Problem {
    fn new(line: Option<u64>, column: impl Into<String>, message: impl Into<String>) -> Self {
        Self { line, column: column.into(), message: message.into() }
    }

    /// The line as the page shows it.
    pub(crate) fn line_text(&self) -> String {
        self.line.map_or_else(|| "–".to_owned(), |line| line.to_string())
    }
}

/// The field a column header names: a field's name (`first_name`), its label (`First
/// name`) or the original application's `phone_no`, ignoring case and surrounding spaces.
pub(crate) fn field_of_header(header: &str) -> Option<ContactField> {
    let header = header.trim().to_lowercase();
    if header == "phone_no" {
        return Some(ContactField::Phone);
    }
    ContactField::ALL
        .into_iter()
        .find(|field| header == field.name() || header == field.label().to_lowercase())
}

/// The rows of a CSV file as new contacts, each with its line, or every problem found.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<(u64, NewContact)>, Vec<Problem>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(err) = std::str::from_utf8(bytes) {
        let line = bytes[..err.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        return Err(vec![Problem::new(
            Some(line),
            "File",
            "The file is not UTF-8 text. Please save it as “CSV UTF-8”.",
        )]);
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(_) => return Err(vec![Problem::new(Some(1), "Header", "The header row could not be read.")]),
    };
    let mut problems = Vec::new();
    let mut columns = Vec::with_capacity(headers.len());
    for (index, name) in headers.iter().enumerate() {
        let field = field_of_header(name);
        let column = format!("Column {}", index + 1);
        match field {
            // A column without a header (a spreadsheet's trailing comma): its cells must be
            // blank, checked row by row.
            None if name.trim().is_empty() => {}
            None => problems.push(Problem::new(
                Some(1),
                column,
                "This column is not a contact field. The columns are: title, first_name, last_name, \
                 phone (or phone_no), email, address, relationship (or their labels).",
            )),
            Some(field) if columns.contains(&Some(field)) => {
                problems.push(Problem::new(
                    Some(1),
                    column,
                    format!("A second column for {}.", field.label()),
                ));
            }
            Some(_) => {}
        }
        columns.push(field);
    }
    if headers.is_empty() || bytes.is_empty() {
        problems.push(Problem::new(None, "File", "The file is empty: it needs a header row and contacts."));
    } else if columns.iter().all(Option::is_none) && problems.is_empty() {
        problems.push(Problem::new(Some(1), "Header", "No column names a contact field."));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map(csv::Position::line);
                problems.push(Problem::new(line, "Row", "The row could not be read as CSV."));
                break;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_IMPORT_ROWS {
            problems.push(Problem::new(
                Some(line),
                "Row",
                format!("The file has more than {MAX_IMPORT_ROWS} contacts. Please split it."),
            ));
            break;
        }
        if record.len() != columns.len() {
            problems.push(Problem::new(
                Some(line),
                "Row",
                format!("The row has {} cells where the header has {}.", record.len(), columns.len()),
            ));
            continue;
        }
        let stray =
            columns.iter().zip(record.iter()).position(|(f, cell)| f.is_none() && !cell.trim().is_empty());
        if let Some(index) = stray {
            let column = format!("Column {}", index + 1);
            problems.push(Problem::new(Some(line), column, "A value in a column without a header."));
            continue;
        }
        let input =
            columns.iter().zip(record.iter()).fold(
                NewContact::default(),
                |input, (field, cell)| match field {
                    Some(field) if !cell.trim().is_empty() => input.with(*field, restore(cell)),
                    _ => input,
                },
            );
        rows.push((line, input));
    }
    if problems.is_empty() && rows.is_empty() {
        problems.push(Problem::new(None, "File", "The file has no contacts below its header row."));
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

/// `GET|POST /cases/{case_id}/import`.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "import.html")]
pub(crate) struct ImportPage {
    layout: Layout,
    case_id: String,
    problems: Vec<Problem>,
    max_rows: usize,
    max_mib: usize,
}

impl ImportPage {
    fn new(layout: Layout, case_id: &CaseId) -> Self {
        Self {
            layout,
            case_id: case_id.to_string(),
            problems: Vec::new(),
            max_rows: MAX_IMPORT_ROWS,
            max_mib: IMPORT_LIMIT / (1024 * 1024),
        }
    }
}

async fn import_page(session: Session, CasePath(case_id): CasePath) -> Result<ImportPage, HttpError> {
    require(&session.store, &session.actor, &case_id, Action::Create).await?;
    Ok(ImportPage::new(session.layout, &case_id))
}

/// The token and the file of the import form.
async fn read_form(mut multipart: Multipart) -> Result<(Option<String>, Option<Bytes>), HttpError> {
    let mut token = None;
    let mut file = None;
    let failed = |err: axum::extract::multipart::MultipartError| {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            HttpError::too_large()
        } else {
            HttpError::bad_request("The form could not be read. Please reload the page and try again.")
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        match field.name() {
            Some("csrf_token") => token = Some(field.text().await.map_err(failed)?),
            Some("file") => file = Some(field.bytes().await.map_err(failed)?),
            _ => {}
        }
    }
    Ok((token, file))
}

/// `POST /cases/{case_id}/import`: a multipart form with `csrf_token` and `file`.
async fn import(
    State(state): State<AppState>,
    session: Session,
    CasePath(case_id): CasePath,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, HttpError> {
    if crate::csrf::is_from_elsewhere(&headers) {
        return Err(HttpError::csrf());
    }
    let Ok(multipart) = multipart else {
        return Err(HttpError::bad_request(
            "The form could not be read. Please choose a CSV file to import.",
        ));
    };
    let (token, file) = read_form(multipart).await?;
    if !crate::csrf::is_valid(&headers, &state, token.as_deref()) {
        return Err(HttpError::csrf());
    }
    let mut page = ImportPage::new(session.layout, &case_id);
    let Some(file) = file else {
        return Err(HttpError::bad_request("Please choose a CSV file to import."));
    };
    let rows = match parse(&file) {
        Ok(rows) => rows,
        Err(problems) => {
            tracing::info!(problems = problems.len(), "CSV import refused: the file has invalid rows");
            page.problems = problems;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let (lines, inputs): (Vec<u64>, Vec<NewContact>) = rows.into_iter().unzip();
    match session.store.create_many(&case_id, inputs, &session.actor).await {
        Ok(created) => {
            tracing::info!(imported = created.len(), "CSV import");
            // A redirect: reloading the next page must not import the file again.
            Ok(crate::flash::redirect(&format!("/cases/{case_id}"), crate::flash::Flash::Imported, &state))
        }
        Err(Error::Validation(errors)) => {
            page.problems = errors
                .iter()
                .map(|error| {
                    let line = error.index.and_then(|index| lines.get(index).copied());
                    let column = error
                        .field
                        .parse::<ContactField>()
                        .map_or_else(|_| "Contact".to_owned(), |field| field.label().to_owned());
                    Problem::new(line, column, error.message.clone())
                })
                .collect();
            tracing::info!(
                rows = lines.len(),
                problems = page.problems.len(),
                "CSV import refused: the file has invalid rows"
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test per character of OWASP's list: the cell gets a leading quote, and the import
    /// takes it off again.
    fn neutralized(value: &str) {
        let cell = neutralize(value);
        assert_eq!(cell, format!("'{value}"));
        assert_eq!(restore(&cell), value);
    }

    #[test]
    fn equals_is_neutralized() {
        neutralized("=HYPERLINK(\"http://evil.example\")");
    }

    #[test]
    fn plus_is_neutralized() {
        neutralized("+49 30 1234567");
    }

    #[test]
    fn minus_is_neutralized() {
        neutralized("-2+3");
    }

    #[test]
    fn at_is_neutralized() {
        neutralized("@SUM(A1)");
    }

    #[test]
    fn tab_is_neutralized() {
        neutralized("\t=1");
    }

    #[test]
    fn carriage_return_is_neutralized() {
        neutralized("\r=1");
    }

    #[test]
    fn quotes_survive_the_round_trip_and_plain_values_are_untouched() {
        neutralized("'=1");
        neutralized("'quoted");
        for plain in ["Zoë", "a=b", "", "1+1", "x@example.org"] {
            assert_eq!(neutralize(plain), plain);
            assert_eq!(restore(plain), plain);
        }
        // A quote that the export did not add stays.
        assert_eq!(restore("'O"), "'O");
    }

    #[test]
    fn headers_are_fields_labels_or_phone_no() {
        assert_eq!(field_of_header("first_name"), Some(ContactField::FirstName));
        assert_eq!(field_of_header(" First Name "), Some(ContactField::FirstName));
        assert_eq!(field_of_header("EMAIL"), Some(ContactField::Email));
        assert_eq!(field_of_header("Phone_No"), Some(ContactField::Phone));
        assert_eq!(field_of_header("phone"), Some(ContactField::Phone));
        assert_eq!(field_of_header("notes"), None);
        assert!(is_import("/cases/42/import"));
        assert!(!is_import("/cases//import") && !is_import("/cases/4/2/import") && !is_import("/cases/42"));
    }

    #[test]
    fn rows_are_read_with_their_lines() {
        let rows = parse(b"\xEF\xBB\xBFfirst_name,Phone_no\nAda,030 1234567\n,\n\"Multi\nLine\",\n").unwrap();
        assert_eq!(rows.iter().map(|(line, _)| *line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(rows[0].1.field(ContactField::Phone), Some("030 1234567"));
        assert_eq!(rows[1].1.field(ContactField::FirstName), Some("Multi\nLine"));
        assert_eq!(rows[1].1.field(ContactField::Phone), None);
    }

    #[test]
    fn bad_files_are_refused_with_every_problem() {
        let problems = parse(b"name,first_name,first name\n").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].column, "Column 1");
        assert_eq!(problems[1].column, "Column 3");
        let problems = parse(b"first_name,email\nAda\nBob,b@example.org,x\nCy,c@example.org\n").unwrap_err();
        assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [Some(2), Some(3)]);
        assert!(parse(b"first_name\n").is_err());
        assert!(parse(b"").is_err());
        let latin1 = parse(b"first_name\nAda\nZo\xEB\n").unwrap_err();
        assert_eq!(latin1[0].line, Some(3));
    }

    #[test]
    fn columns_without_a_header_must_be_blank() {
        let rows = parse(b"first_name,email,,\nAda,a@example.org,,\n").unwrap();
        assert_eq!(rows.len(), 1);
        let problems = parse(b"first_name,,email\nAda,,\nBob,x,\n").unwrap_err();
        assert_eq!(problems, [Problem::new(Some(3), "Column 2", "A value in a column without a header.")]);
        let problems = parse(b",\nAda,\n").unwrap_err();
        assert_eq!(problems[0].column, "Header");
    }

    #[test]
    fn too_many_rows_are_refused() {
        let mut file = String::from("first_name\n");
        for _ in 0..=MAX_IMPORT_ROWS {
            file.push_str("Ada\n");
        }
        let problems = parse(file.as_bytes()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(MAX_IMPORT_ROWS as u64 + 2));
    }
}
