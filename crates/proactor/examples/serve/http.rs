//! HTTP/1.1 for `serve`: statuses, request parsing, ranges, and the small formatting jobs
//! (dates, escaping, validators). Pure functions over bytes, no I/O.

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};
/// A response status: code and reason phrase.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Status(pub(crate) u16, pub(crate) &'static str);

pub(crate) const OK: Status = Status(200, "OK");
pub(crate) const PARTIAL_CONTENT: Status = Status(206, "Partial Content");
pub(crate) const MOVED_PERMANENTLY: Status = Status(301, "Moved Permanently");
pub(crate) const NOT_MODIFIED: Status = Status(304, "Not Modified");
pub(crate) const BAD_REQUEST: Status = Status(400, "Bad Request");
pub(crate) const FORBIDDEN: Status = Status(403, "Forbidden");
pub(crate) const NOT_FOUND: Status = Status(404, "Not Found");
pub(crate) const METHOD_NOT_ALLOWED: Status = Status(405, "Method Not Allowed");
pub(crate) const REQUEST_TIMEOUT: Status = Status(408, "Request Timeout");
pub(crate) const CONTENT_TOO_LARGE: Status = Status(413, "Content Too Large");
pub(crate) const URI_TOO_LONG: Status = Status(414, "URI Too Long");
pub(crate) const RANGE_NOT_SATISFIABLE: Status = Status(416, "Range Not Satisfiable");
pub(crate) const HEADERS_TOO_LARGE: Status = Status(431, "Request Header Fields Too Large");
pub(crate) const SERVICE_UNAVAILABLE: Status = Status(503, "Service Unavailable");
pub(crate) const VERSION_NOT_SUPPORTED: Status = Status(505, "HTTP Version Not Supported");

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Method {
    Get,
    Head,
    /// Any other well-formed method: answered with 405.
    Other,
}

/// The parts of a request head this server acts on, borrowed from the input buffer.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) target: &'a [u8],
    pub(crate) http10: bool,
    pub(crate) keep_alive: bool,
    pub(crate) range: Option<&'a [u8]>,
    pub(crate) if_modified_since: Option<&'a [u8]>,
    pub(crate) if_none_match: Option<&'a [u8]>,
    pub(crate) accept_encoding: Option<&'a [u8]>,
    pub(crate) if_range: Option<&'a [u8]>,
    /// Whether a body follows the head, and how it is framed.
    pub(crate) body: Body,
}

/// How a request's body is framed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Body {
    None,
    /// `Content-Length` bytes (more than zero).
    Length(u64),
    /// Any `Transfer-Encoding`, which only chunked framing can end.
    Chunked,
}

/// Where the head at the start of `input` ends (just past its blank line), once it is all
/// there. Lines may end in CRLF or, leniently, a bare LF.
pub(crate) fn head_end(input: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = input[from..].iter().position(|&byte| byte == b'\n') {
        let next = from + at + 1;
        match &input[next..] {
            [b'\n', ..] => return Some(next + 1),
            [b'\r', b'\n', ..] => return Some(next + 2),
            _ => from = next,
        }
    }
    None
}

/// Parses a request head (request line, header lines, blank line).
pub(crate) fn parse_request(head: &[u8]) -> Result<Request<'_>, Status> {
    let mut lines = head
        .split(|&byte| byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let request_line = lines.next().ok_or(BAD_REQUEST)?;
    let mut parts = request_line.split(|&byte| byte == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BAD_REQUEST);
    };
    if method.is_empty() || !method.iter().all(|&byte| is_token(byte)) {
        return Err(BAD_REQUEST);
    }
    // Visible ASCII, and bytes past ASCII as browsers send UTF-8 (it is decoded as if
    // percent-encoded); no space, no control byte, no DEL.
    if target.is_empty() || !target.iter().all(|&byte| byte > 0x20 && byte != 0x7f) {
        return Err(BAD_REQUEST);
    }
    let http10 = match version {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            return Err(VERSION_NOT_SUPPORTED)
        }
        _ => return Err(BAD_REQUEST),
    };
    let mut request = Request {
        method: match method {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            _ => Method::Other,
        },
        target,
        http10,
        keep_alive: false,
        range: None,
        if_modified_since: None,
        if_none_match: None,
        accept_encoding: None,
        if_range: None,
        body: Body::None,
    };
    let mut hosts = 0;
    let (mut close, mut keep_alive) = (false, false);
    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        if line.is_empty() {
            // The blank line ending the head (only the last line can be empty).
            break;
        }
        let colon = line
            .iter()
            .position(|&byte| byte == b':')
            .ok_or(BAD_REQUEST)?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        // No space before the colon (RFC 9112 section 5.1), and no obsolete line folding.
        if name.is_empty() || !name.iter().all(|&byte| is_token(byte)) {
            return Err(BAD_REQUEST);
        }
        let value = trim(value);
        if value
            .iter()
            .any(|&byte| byte < 0x20 && byte != b'\t' || byte == 0x7f)
        {
            return Err(BAD_REQUEST);
        }
        if name.eq_ignore_ascii_case(b"host") {
            hosts += 1;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for option in value.split(|&byte| byte == b',').map(trim) {
                if option.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if option.eq_ignore_ascii_case(b"keep-alive") {
                    keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let length = parse_decimal(value).ok_or(BAD_REQUEST)?;
            // Differing lengths would let two parties frame the message differently.
            if content_length.is_some_and(|previous| previous != length) {
                return Err(BAD_REQUEST);
            }
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"range") {
            request.range = Some(value);
        } else if name.eq_ignore_ascii_case(b"if-modified-since") {
            request.if_modified_since = Some(value);
        } else if name.eq_ignore_ascii_case(b"accept-encoding") {
            request.accept_encoding = Some(value);
        } else if name.eq_ignore_ascii_case(b"if-none-match") {
            request.if_none_match = Some(value);
        } else if name.eq_ignore_ascii_case(b"if-range") {
            request.if_range = Some(value);
        }
    }
    // RFC 9112 section 3.2: a 1.1 request has exactly one Host.
    if !http10 && hosts != 1 || hosts > 1 {
        return Err(BAD_REQUEST);
    }
    // Both at once is a classic request-smuggling shape (RFC 9112 section 6.1).
    if chunked && content_length.is_some() {
        return Err(BAD_REQUEST);
    }
    // 1.1 keeps the connection unless told to close; 1.0 closes unless asked to keep it.
    request.keep_alive = !close && (!http10 || keep_alive);
    request.body = match content_length {
        _ if chunked => Body::Chunked,
        Some(length) if length > 0 => Body::Length(length),
        _ => Body::None,
    };
    Ok(request)
}

/// A request target split into path (still percent-encoded) and query.
#[derive(Debug)]
pub(crate) struct Target<'a> {
    pub(crate) path: &'a [u8],
    pub(crate) query: Option<&'a [u8]>,
}

/// Splits an origin-form (`/path?query`) or absolute-form (`http://host/path`) target;
/// `None` for the forms a file server has no use for (`*`, `host:port`).
pub(crate) fn split_target(target: &[u8]) -> Option<Target<'_>> {
    let path = if target.starts_with(b"/") {
        target
    } else {
        // RFC 9112 section 3.2.2: servers must accept the absolute form; the host in it is
        // not used to pick a root (there is one root).
        let scheme = [&b"http://"[..], b"https://"].into_iter().find(|scheme| {
            target.len() >= scheme.len() && target[..scheme.len()].eq_ignore_ascii_case(scheme)
        })?;
        let rest = &target[scheme.len()..];
        match rest.iter().position(|&byte| byte == b'/') {
            Some(at) => &rest[at..],
            // `http://host` and `http://host?query` ask for the root.
            None => b"/",
        }
    };
    // A fragment is never sent by a client; treat one like the end of the target anyway.
    let path = path.split(|&byte| byte == b'#').next().unwrap_or(path);
    Some(match path.iter().position(|&byte| byte == b'?') {
        Some(at) => Target {
            path: &path[..at],
            query: Some(&path[at + 1..]),
        },
        None => Target { path, query: None },
    })
}

/// The most ranges one Range header may list to be answered in parts; more are answered
/// with the whole file (RFC 9110 section 14.2 allows ignoring a Range), which bounds the
/// work and the parts a client can ask for with one small header.
pub(crate) const MOST_RANGES: usize = 16;

/// What a Range header asks of a file of a given length.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ranged {
    /// No usable range: send the whole file (also for syntax we ignore, as RFC 9110 allows).
    Full,
    /// The ranges left in the caller's list: sorted, within the file, none overlapping or
    /// touching another (those are merged), at least one.
    Parts,
    /// Valid ranges that all lie wholly past the end.
    Unsatisfiable,
}

/// What one range of a Range header selects.
enum Selection {
    /// Syntax we do not take: the whole header is ignored.
    Invalid,
    /// Nothing of the file (it starts past the end).
    Nothing,
    /// Bytes `first..=last`, both within the file.
    Bytes(u64, u64),
}

/// Interprets a Range header (`bytes=a-b`, `bytes=a-`, `bytes=-n`, and lists of them) for
/// a file of `len` bytes, leaving the ranges it selects in `parts`. Overlapping and
/// adjacent ranges are merged, so no byte is sent twice and the parts never add up to
/// more than the file; more than [`MOST_RANGES`] are answered with the whole file.
pub(crate) fn parse_range(value: &[u8], len: u64, parts: &mut Vec<(u64, u64)>) -> Ranged {
    parts.clear();
    let Some(list) = value
        .split_first_chunk::<6>()
        .filter(|(unit, _)| unit.eq_ignore_ascii_case(b"bytes="))
        .map(|(_, list)| list)
    else {
        return Ranged::Full;
    };
    let mut count = 0;
    // Empty list elements (`bytes=0-1,,3-4`) are allowed and skipped (RFC 9110 section 5.6.1).
    for spec in list.split(|&byte| byte == b',').map(trim) {
        if spec.is_empty() {
            continue;
        }
        count += 1;
        if count > MOST_RANGES {
            return Ranged::Full;
        }
        match select(spec, len) {
            Selection::Invalid => return Ranged::Full,
            Selection::Nothing => {}
            Selection::Bytes(first, last) => parts.push((first, last)),
        }
    }
    if count == 0 {
        return Ranged::Full;
    }
    if parts.is_empty() {
        return Ranged::Unsatisfiable;
    }
    parts.sort_unstable();
    let mut merged = 0;
    for at in 1..parts.len() {
        let (first, last) = parts[at];
        if first <= parts[merged].1.saturating_add(1) {
            parts[merged].1 = parts[merged].1.max(last);
        } else {
            merged += 1;
            parts[merged] = (first, last);
        }
    }
    parts.truncate(merged + 1);
    Ranged::Parts
}

/// One range of a Range header: `a-b`, `a-` or `-n`.
fn select(spec: &[u8], len: u64) -> Selection {
    let Some(dash) = spec.iter().position(|&byte| byte == b'-') else {
        return Selection::Invalid;
    };
    let (first, last) = (trim(&spec[..dash]), trim(&spec[dash + 1..]));
    match (first.is_empty(), last.is_empty()) {
        (true, true) => Selection::Invalid,
        (true, false) => {
            if !last.iter().all(u8::is_ascii_digit) {
                return Selection::Invalid;
            }
            // The last `n` bytes (all of them if n is more, even past u64); n = 0, or an
            // empty file, selects nothing.
            match parse_decimal(last).unwrap_or(u64::MAX) {
                0 => Selection::Nothing,
                _ if len == 0 => Selection::Nothing,
                suffix => Selection::Bytes(len.saturating_sub(suffix), len - 1),
            }
        }
        (false, _) => {
            let Some(first) = parse_decimal(first) else {
                // Digits too many for a u64 still name a position past any file.
                return if first.iter().all(u8::is_ascii_digit) {
                    Selection::Nothing
                } else {
                    Selection::Invalid
                };
            };
            let last = if last.is_empty() {
                u64::MAX
            } else if last.iter().all(u8::is_ascii_digit) {
                parse_decimal(last).unwrap_or(u64::MAX)
            } else {
                return Selection::Invalid;
            };
            if last < first {
                Selection::Invalid
            } else if first >= len {
                Selection::Nothing
            } else {
                Selection::Bytes(first, last.min(len - 1))
            }
        }
    }
}

/// A non-empty run of ASCII digits that fits a u64.
pub(crate) fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &byte| {
        let digit = (byte as char).to_digit(10)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Removes the optional white space (SP, HTAB) around a header value or list item.
pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    let is_space = |byte: &u8| matches!(byte, b' ' | b'\t');
    let start = bytes
        .iter()
        .position(|byte| !is_space(byte))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|byte| !is_space(byte))
        .map_or(start, |at| at + 1);
    &bytes[start..end]
}

/// A `tchar` of RFC 9110 section 5.6.2: what methods and header names are made of.
pub(crate) fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Decodes `%XX` escapes of `input` into `output`; `None` for a malformed escape.
pub(crate) fn percent_decode(input: &[u8], output: &mut Vec<u8>) -> Option<()> {
    output.clear();
    let mut bytes = input.iter();
    while let Some(&byte) = bytes.next() {
        if byte == b'%' {
            let high = (*bytes.next()? as char).to_digit(16)?;
            let low = (*bytes.next()? as char).to_digit(16)?;
            output.push((high * 16 + low) as u8);
        } else {
            output.push(byte);
        }
    }
    Some(())
}

/// Percent-encodes a file name for an href: everything but unreserved characters.
pub(crate) fn percent_encode(name: &[u8]) -> String {
    let mut encoded = String::with_capacity(name.len());
    for &byte in name {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// Escapes text for HTML content and attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// The names of the months, as HTTP dates and the common log format write them.
pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A moment as a calendar writes it, in UTC.
pub(crate) struct Civil {
    pub(crate) year: u64,
    /// 1 to 12.
    pub(crate) month: u64,
    pub(crate) day: u64,
    /// 0 for Sunday.
    pub(crate) weekday: u64,
    pub(crate) hour: u64,
    pub(crate) minute: u64,
    pub(crate) second: u64,
}

impl Civil {
    /// The date and time `seconds` after 1970-01-01 00:00:00 UTC.
    pub(crate) fn from_seconds(seconds: u64) -> Civil {
        let days = seconds / 86_400;
        let of_day = seconds % 86_400;
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm, for days >= 0).
        let shifted = days + 719_468;
        let era = shifted / 146_097;
        let day_of_era = shifted % 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153; // 0 = March
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        Civil {
            year: year_of_era + era * 400 + u64::from(month <= 2),
            month,
            day,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4) % 7,
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
        }
    }
}

/// `time` as an HTTP date (IMF-fixdate, RFC 9110 section 5.6.7):
/// `Sun, 06 Nov 1994 08:49:37 GMT`; `None` before 1970 or after 9999.
pub(crate) fn http_date(time: SystemTime) -> Option<[u8; 29]> {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let civil = Civil::from_seconds(time.duration_since(UNIX_EPOCH).ok()?.as_secs());
    if civil.year > 9999 {
        return None;
    }
    // Byte by byte rather than through `write!`: a response head carries one (Last-Modified)
    // and core's formatting machinery costs more than the rest of the head.
    let mut date = *b"Sun, 06 Nov 1994 08:49:37 GMT";
    date[..3].copy_from_slice(DAYS[civil.weekday as usize].as_bytes());
    two_digits(&mut date[5..7], civil.day);
    date[8..11].copy_from_slice(MONTHS[(civil.month - 1) as usize].as_bytes());
    two_digits(&mut date[12..14], civil.year / 100);
    two_digits(&mut date[14..16], civil.year % 100);
    two_digits(&mut date[17..19], civil.hour);
    two_digits(&mut date[20..22], civil.minute);
    two_digits(&mut date[23..25], civil.second);
    Some(date)
}

/// `value` (below 100) as two decimal digits into `out`.
fn two_digits(out: &mut [u8], value: u64) {
    out[0] = b'0' + (value / 10 % 10) as u8;
    out[1] = b'0' + (value % 10) as u8;
}

/// Appends `value` in decimal to `out`, without core's formatting machinery (response heads
/// carry a few numbers each).
pub(crate) fn push_decimal(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = value;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Appends `piece` to the `len` bytes of `out` in use.
fn push_bytes(out: &mut [u8; 48], len: &mut usize, piece: &[u8]) {
    out[*len..*len + piece.len()].copy_from_slice(piece);
    *len += piece.len();
}

/// Appends `value` in lowercase hexadecimal to the `len` bytes of `out` in use.
fn push_hex(out: &mut [u8; 48], len: &mut usize, value: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut start = digits.len();
    let mut rest = value;
    loop {
        start -= 1;
        digits[start] = HEX[(rest % 16) as usize];
        rest /= 16;
        if rest == 0 {
            break;
        }
    }
    let count = digits.len() - start;
    out[*len..*len + count].copy_from_slice(&digits[start..]);
    *len += count;
}

/// A file's entity tag, `"<mtime hex>-<size hex>"` as nginx makes it, with the content coding
/// appended for a precompressed representation (`"...-br"`), so that each representation has
/// its own: quoted, ready for the `ETag` header.
#[derive(Clone, Copy)]
pub(crate) struct EntityTag {
    bytes: [u8; 48],
    len: usize,
}

impl EntityTag {
    /// The tag of a file modified at `seconds` since 1970 (0 if unknown) of `len` bytes,
    /// encoded with `coding` if any.
    pub(crate) fn new(seconds: u64, len: u64, coding: Option<&str>) -> EntityTag {
        let mut bytes = [0u8; 48];
        // 2 quotes, 2 × 16 hex digits, 2 dashes and a coding of at most 8 letters fit in 48.
        let coding = coding.filter(|coding| coding.len() <= 8);
        let mut end = 0;
        push_bytes(&mut bytes, &mut end, b"\"");
        push_hex(&mut bytes, &mut end, seconds);
        push_bytes(&mut bytes, &mut end, b"-");
        push_hex(&mut bytes, &mut end, len);
        if let Some(coding) = coding {
            push_bytes(&mut bytes, &mut end, b"-");
            push_bytes(&mut bytes, &mut end, coding.as_bytes());
        }
        push_bytes(&mut bytes, &mut end, b"\"");
        EntityTag { bytes, len: end }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Whether an `If-None-Match` value names `tag` (or is `*`), by the weak comparison RFC 9110
/// section 13.1.2 asks for: `W/"x"` matches `"x"`.
pub(crate) fn none_match_names(value: &[u8], tag: &EntityTag) -> bool {
    if trim(value) == b"*" {
        return true;
    }
    entity_tags(value).any(|(_, opaque)| opaque == tag.as_bytes())
}

/// Whether an `If-Range` value still holds for a representation with `tag` and
/// `last_modified` (RFC 9110 section 13.1.5): an entity tag by the strong comparison (a weak
/// one never holds), a date only when it is exactly the one we send.
pub(crate) fn if_range_holds(value: &[u8], tag: &EntityTag, last_modified: Option<&[u8]>) -> bool {
    let value = trim(value);
    if value.starts_with(b"\"") {
        value == tag.as_bytes()
    } else if value.starts_with(b"W/") {
        false
    } else {
        Some(value) == last_modified
    }
}

/// The entity tags of a list (`"a", W/"b"`): whether each is weak, and its quoted form.
/// Parsing stops at the first malformed item, which matches nothing.
fn entity_tags(list: &[u8]) -> impl Iterator<Item = (bool, &[u8])> {
    let mut rest = list;
    std::iter::from_fn(move || {
        let at = rest
            .iter()
            .position(|&byte| !matches!(byte, b' ' | b'\t' | b','))?;
        rest = &rest[at..];
        let weak = rest.starts_with(b"W/");
        if weak {
            rest = &rest[2..];
        }
        // An opaque tag is a quoted string without quotes inside (it may hold commas).
        if rest.first() != Some(&b'"') {
            rest = &[];
            return None;
        }
        let Some(close) = rest[1..].iter().position(|&byte| byte == b'"') else {
            rest = &[];
            return None;
        };
        let (tag, after) = rest.split_at(close + 2);
        rest = after;
        Some((weak, tag))
    })
}

/// Seconds since 1970 of an HTTP date in any of the three forms RFC 9110 section 5.6.7
/// asks recipients to accept: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`); `None` for
/// anything else, or a date before 1970.
pub(crate) fn parse_http_date(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(trim(value)).ok()?;
    let (day, month, year, time) = if let Some((weekday, rest)) = text.split_once(", ") {
        if weekday.len() == 3 {
            // IMF-fixdate.
            let mut fields = rest.split(' ');
            let (day, month, year, time) = (
                fields.next()?,
                fields.next()?,
                fields.next()?,
                fields.next()?,
            );
            if fields.next()? != "GMT" || fields.next().is_some() || year.len() != 4 {
                return None;
            }
            (day, month, year.parse().ok()?, time)
        } else {
            // RFC 850, whose two-digit year RFC 9110 reads as the most recent past one;
            // before 1970 is of no use here, so 70..=99 are 19xx and the rest 20xx.
            let (date, rest) = rest.split_once(' ')?;
            let (time, zone) = rest.split_once(' ')?;
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            if zone != "GMT" || parts.next().is_some() || year.len() != 2 {
                return None;
            }
            let year: u64 = decimal(year)?;
            (
                day,
                month,
                if year >= 70 { 1900 + year } else { 2000 + year },
                time,
            )
        }
    } else {
        // asctime: the day of the month is padded with a space, not a zero.
        let mut fields = text.split_ascii_whitespace();
        let _weekday = fields.next()?;
        let (month, day, time, year) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        if fields.next().is_some() || year.len() != 4 {
            return None;
        }
        (day, month, year.parse().ok()?, time)
    };
    let month = MONTHS.iter().position(|&name| name == month)? as u64 + 1;
    // Any month may have a 31st here: a day past a short month's end still names a moment
    // (the next month's first), not worth refusing.
    let day = decimal(day).filter(|day| (1..=31).contains(day))?;
    let mut clock = time.split(':');
    let (hour, minute, second) = (clock.next()?, clock.next()?, clock.next()?);
    if clock.next().is_some() || hour.len() != 2 || minute.len() != 2 || second.len() != 2 {
        return None;
    }
    let hour = decimal(hour).filter(|&hour| hour < 24)?;
    let minute = decimal(minute).filter(|&minute| minute < 60)?;
    // 60 is a leap second.
    let second = decimal(second).filter(|&second| second <= 60)?;
    let days = days_since_1970(year, month, day)?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// A run of ASCII digits (at most 4) as a number.
fn decimal(digits: &str) -> Option<u64> {
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm); `None` before 1970.
fn days_since_1970(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = year / 400;
    let year_of_era = year % 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).checked_sub(719_468)
}

/// A content coding of a precompressed sibling file (`page.html.br`, `page.html.gz`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// Its name in `Content-Encoding` and `Accept-Encoding`.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// What the sibling file's name adds to the original's.
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Coding::Brotli => ".br",
            Coding::Gzip => ".gz",
        }
    }
}

/// The codings an `Accept-Encoding` value allows, most preferred first: by quality value
/// (`q=0` refuses), `br` before `gzip` at equal quality (it is smaller), `*` standing for
/// any coding not named (RFC 9110 section 12.5.3).
pub(crate) fn preferred_codings(value: &[u8]) -> [Option<Coding>; 2] {
    // Qualities in thousandths; None: not named.
    let (mut brotli, mut gzip, mut any) = (None, None, None);
    for item in value.split(|&byte| byte == b',') {
        let mut fields = item.split(|&byte| byte == b';').map(trim);
        let name = fields.next().unwrap_or_default();
        let weight = fields.find_map(|parameter| {
            let (key, value) = parameter.split_at_checked(2)?;
            key.eq_ignore_ascii_case(b"q=")
                .then(|| parse_quality(value))
        });
        let quality = match weight {
            None => 1000,
            Some(Some(quality)) => quality,
            // A malformed weight counts as a refusal: the identity body is always right.
            Some(None) => 0,
        };
        if name.eq_ignore_ascii_case(b"br") {
            brotli = Some(quality);
        } else if name.eq_ignore_ascii_case(b"gzip") || name.eq_ignore_ascii_case(b"x-gzip") {
            gzip = Some(quality);
        } else if name == b"*" {
            any = Some(quality);
        }
    }
    let brotli = brotli.or(any).unwrap_or(0);
    let gzip = gzip.or(any).unwrap_or(0);
    let allowed = |quality: u16, coding| (quality > 0).then_some(coding);
    if gzip > brotli {
        [allowed(gzip, Coding::Gzip), allowed(brotli, Coding::Brotli)]
    } else {
        [allowed(brotli, Coding::Brotli), allowed(gzip, Coding::Gzip)]
    }
}

/// A quality value (`0`, `0.5`, `1.000`) in thousandths.
fn parse_quality(value: &[u8]) -> Option<u16> {
    let (whole, fraction) = match value.iter().position(|&byte| byte == b'.') {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, &b""[..]),
    };
    if fraction.len() > 3 || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let thousandths = fraction
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(3)
        .fold(0u16, |value, &digit| value * 10 + u16::from(digit - b'0'));
    match whole {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}
