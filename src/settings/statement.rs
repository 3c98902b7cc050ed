//! How a business's statements look: who sends them, in which language, in which font.
//!
//! A statement is a document the business sends to its customers and their accountants, so
//! it carries the business's name, address and contact. These are settings of the business,
//! not of one statement, which is why they live here and are handed to the renderer
//! (`Statement::to_pdf`) rather than stored with each statement.

use std::fmt;
use std::sync::Arc;

/// The business a statement comes from: its name (also the PDF's author), postal address and
/// contact lines (phone, email, web site, VAT number), each shown on its own line.
///
/// # Examples
///
/// ```
/// use customer_directory::settings::BusinessDetails;
/// let business = BusinessDetails::new("Harbour Kayaks Ltd")
///     .with_address(["1 Quay Street", "Falmouth TR11 3HH", "United Kingdom"])
///     .with_contact(["+44 1326 000000", "hello@harbourkayaks.example"]);
/// assert_eq!(business.address.len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessDetails {
    /// The business's name, as it should appear at the top of every statement.
    pub name: String,
    /// Postal address, one line per entry.
    pub address: Vec<String>,
    /// Contact lines: phone, email, web site, tax number.
    pub contact: Vec<String>,
}

impl BusinessDetails {
    /// A business called `name`, with no address or contact lines yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::settings::BusinessDetails;
    /// assert_eq!(BusinessDetails::new("Harbour Kayaks").name, "Harbour Kayaks");
    /// ```
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            address: Vec::new(),
            contact: Vec::new(),
        }
    }

    /// The same business with these address lines.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::settings::BusinessDetails;
    /// let business = BusinessDetails::new("Harbour Kayaks").with_address(["1 Quay Street"]);
    /// assert_eq!(business.address, ["1 Quay Street"]);
    /// ```
    #[must_use]
    pub fn with_address<L: Into<String>>(mut self, lines: impl IntoIterator<Item = L>) -> Self {
        self.address = lines.into_iter().map(Into::into).collect();
        self
    }

    /// The same business with these contact lines.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::settings::BusinessDetails;
    /// let business = BusinessDetails::new("Harbour Kayaks").with_contact(["hello@example.com"]);
    /// assert_eq!(business.contact, ["hello@example.com"]);
    /// ```
    #[must_use]
    pub fn with_contact<L: Into<String>>(mut self, lines: impl IntoIterator<Item = L>) -> Self {
        self.contact = lines.into_iter().map(Into::into).collect();
        self
    }
}

/// The bytes of a TrueType or OpenType font file the host supplies for its statements: for
/// scripts the bundled font does not cover (Chinese, Japanese, Korean, Arabic) or for its
/// brand. The bytes are shared, not copied, between statements.
///
/// # Examples
///
/// ```
/// use customer_directory::settings::FontFile;
/// let font = FontFile::new(vec![0_u8; 4]);
/// assert_eq!(font.bytes().len(), 4);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FontFile(Arc<Vec<u8>>);

impl FontFile {
    /// A font from the bytes of a `.ttf` or `.otf` file. The bytes are checked when a
    /// statement is rendered: a file that is not a usable font is refused then, with an
    /// error, not a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::settings::FontFile;
    /// let font = FontFile::new(Vec::new());
    /// assert!(font.bytes().is_empty());
    /// ```
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Arc::new(bytes))
    }

    /// The font file's bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::settings::FontFile;
    /// assert_eq!(FontFile::new(vec![1, 2]).bytes(), &[1, 2]);
    /// ```
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The shared bytes, for the renderer.
    #[cfg_attr(not(feature = "pdf"), allow(dead_code))]
    pub(crate) fn shared(&self) -> Arc<Vec<u8>> {
        Arc::clone(&self.0)
    }
}

impl fmt::Debug for FontFile {
    /// The size only: a font file is hundreds of kilobytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FontFile({} bytes)", self.0.len())
    }
}

/// How a business's statements are made: the business they come from, the document's
/// language (for screen readers and hyphenation, a BCP 47 tag such as `en-GB`), and
/// optionally the host's own fonts instead of the bundled DejaVu Sans (which covers Latin,
/// Greek and Cyrillic).
///
/// # Examples
///
/// ```
/// use customer_directory::settings::{BusinessDetails, StatementSettings};
/// let settings = StatementSettings::new(BusinessDetails::new("Harbour Kayaks"));
/// assert_eq!(settings.language, "en");
/// assert!(settings.font.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementSettings {
    /// The business the statements come from.
    pub business: BusinessDetails,
    /// The document language as a BCP 47 tag (`en`, `en-GB`, `pl`): statements' labels are
    /// in English, so `en` unless the host translates nothing but wants another tag.
    pub language: String,
    /// The font for all regular text; `None` uses the bundled DejaVu Sans.
    pub font: Option<FontFile>,
    /// The font for headings and the table header; `None` uses [`font`](Self::font) when the
    /// host gave one, else the bundled DejaVu Sans Bold.
    pub bold_font: Option<FontFile>,
}

impl StatementSettings {
    /// Statements of `business`, in English, in the bundled font.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::settings::{BusinessDetails, StatementSettings};
    /// let settings = StatementSettings::new(BusinessDetails::new("Harbour Kayaks"));
    /// assert_eq!(settings.business.name, "Harbour Kayaks");
    /// ```
    #[must_use]
    pub fn new(business: BusinessDetails) -> Self {
        Self {
            business,
            language: "en".to_owned(),
            font: None,
            bold_font: None,
        }
    }

    /// The same settings with the host's own font for all text (bold text uses it too unless
    /// [`bold_font`](Self::bold_font) is set).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::settings::{BusinessDetails, FontFile, StatementSettings};
    /// # let noto_sans_jp = Vec::new();
    /// // noto_sans_jp = std::fs::read("NotoSansJP-Regular.otf")?;
    /// let settings = StatementSettings::new(BusinessDetails::new("Harbour Kayaks"))
    ///     .with_font(FontFile::new(noto_sans_jp));
    /// assert!(settings.font.is_some());
    /// ```
    #[must_use]
    pub fn with_font(mut self, font: FontFile) -> Self {
        self.font = Some(font);
        self
    }
}

impl Default for StatementSettings {
    fn default() -> Self {
        Self::new(BusinessDetails::default())
    }
}
