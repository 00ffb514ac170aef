//! Content types by file extension: a table of the common web types, with `charset=utf-8` on
//! the text ones as nginx gives it (`charset utf-8;`), and the ones added on the command
//! line (`--mime EXT=TYPE`), which take precedence.

use std::path::Path;

/// What a file whose extension no table knows is sent as: bytes, for the client to save.
pub(crate) const UNKNOWN: &str = "application/octet-stream";

/// Extensions in lower case, sorted by their bytes, for a binary search.
const TYPES: &[(&str, &str)] = &[
    ("7z", "application/x-7z-compressed"),
    ("aac", "audio/aac"),
    ("apng", "image/apng"),
    ("avif", "image/avif"),
    ("bmp", "image/bmp"),
    ("bz2", "application/x-bzip2"),
    ("css", "text/css; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("eot", "application/vnd.ms-fontobject"),
    ("epub", "application/epub+zip"),
    ("flac", "audio/flac"),
    ("gif", "image/gif"),
    ("gz", "application/gzip"),
    ("htm", "text/html; charset=utf-8"),
    ("html", "text/html; charset=utf-8"),
    ("ico", "image/x-icon"),
    ("ics", "text/calendar; charset=utf-8"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("jsonld", "application/ld+json"),
    ("jxl", "image/jxl"),
    ("log", "text/plain; charset=utf-8"),
    ("m4a", "audio/mp4"),
    ("map", "application/json"),
    ("md", "text/markdown; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("mov", "video/quicktime"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("mpeg", "video/mpeg"),
    ("oga", "audio/ogg"),
    ("ogg", "audio/ogg"),
    ("ogv", "video/ogg"),
    ("opus", "audio/ogg"),
    ("otf", "font/otf"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("rs", "text/plain; charset=utf-8"),
    ("rss", "application/rss+xml"),
    ("rtf", "application/rtf"),
    ("svg", "image/svg+xml"),
    ("tar", "application/x-tar"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("toml", "text/plain; charset=utf-8"),
    ("tsv", "text/tab-separated-values; charset=utf-8"),
    ("ttf", "font/ttf"),
    ("txt", "text/plain; charset=utf-8"),
    ("vtt", "text/vtt; charset=utf-8"),
    ("wasm", "application/wasm"),
    ("wav", "audio/wav"),
    ("weba", "audio/webm"),
    ("webm", "video/webm"),
    ("webmanifest", "application/manifest+json"),
    ("webp", "image/webp"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("xhtml", "application/xhtml+xml"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("xml", "text/xml; charset=utf-8"),
    ("xz", "application/x-xz"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("zip", "application/zip"),
    ("zst", "application/zstd"),
];

/// The longest extension [`TYPES`] holds: a longer one is looked up in the added types only.
const LONGEST: usize = 16;

/// The content types a server sends: [`TYPES`] and those added with `--mime`.
#[derive(Clone, Debug, Default)]
pub struct MimeTypes {
    /// Extension (lower case, no dot) and type, as given on the command line.
    added: Vec<(String, String)>,
}

impl MimeTypes {
    /// Adds (or replaces) the type of files ending in `.extension`, from `EXT=TYPE` as
    /// `--mime` takes it (a leading dot on the extension is allowed).
    ///
    /// # Errors
    ///
    /// Why the text is not an extension and a type: the type goes into a header, so only
    /// visible ASCII and spaces are taken, and it must have a '/'.
    pub fn add(&mut self, definition: &str) -> Result<(), String> {
        let Some((extension, kind)) = definition.split_once('=') else {
            return Err(format!("{definition:?}: not EXT=TYPE"));
        };
        let extension = extension.strip_prefix('.').unwrap_or(extension);
        if extension.is_empty()
            || !extension
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-_+~".contains(&byte))
        {
            return Err(format!("{extension:?}: not a file extension"));
        }
        let kind = kind.trim();
        if !kind.contains('/') || !kind.bytes().all(|byte| (0x20..0x7f).contains(&byte)) {
            return Err(format!("{kind:?}: not a content type (like text/plain)"));
        }
        let extension = extension.to_ascii_lowercase();
        self.added.retain(|(known, _)| *known != extension);
        self.added.push((extension, kind.to_string()));
        Ok(())
    }

    /// The Content-Type for `path`, by its extension, whatever its case.
    pub fn of(&self, path: &Path) -> &str {
        let Some(extension) = path
            .extension()
            .map(|extension| extension.as_encoded_bytes())
        else {
            return UNKNOWN;
        };
        if let Some((_, kind)) = self
            .added
            .iter()
            .find(|(known, _)| extension.eq_ignore_ascii_case(known.as_bytes()))
        {
            return kind;
        }
        if extension.len() > LONGEST {
            return UNKNOWN;
        }
        let mut lower = [0u8; LONGEST];
        let lower = &mut lower[..extension.len()];
        lower.copy_from_slice(extension);
        lower.make_ascii_lowercase();
        TYPES
            .binary_search_by(|(known, _)| known.as_bytes().cmp(lower))
            .map_or(UNKNOWN, |at| TYPES[at].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_the_search() {
        for pair in TYPES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (extension, _) in TYPES {
            assert!(extension.len() <= LONGEST && *extension == extension.to_lowercase());
        }
    }
}
