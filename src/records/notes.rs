//! What staff keep on a profile besides contact details: notes, the newsletter consent
//! log, list memberships and brochure requests. They live inside the [`Customer`] record, so
//! every commit, merge, undo, redaction and export carries them with the profile.
//!
//! [`Customer`]: crate::records::customer::Customer

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::records::audit::Actor;
use crate::values::ids::{BrochureRequestId, ListId, NoteId};
use crate::values::text::{Text, TextError};

/// The text of a note: several lines allowed, 1 to [`NoteText::MAX_CHARS`] characters.
///
/// # Examples
///
/// ```
/// use customer_directory::records::NoteText;
/// let note = NoteText::parse("  Prefers morning tours.\r\nVegetarian.  ")?;
/// assert_eq!(note.as_str(), "Prefers morning tours.\nVegetarian.");
/// assert!(NoteText::parse("   ").is_err());
/// # Ok::<(), customer_directory::values::TextError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct NoteText(Box<str>);

impl NoteText {
    /// The longest note accepted, in Unicode scalar values.
    pub const MAX_CHARS: usize = crate::limits::NOTE_MAX_CHARS;

    /// Trims the text, turns CR LF and bare CR into LF, and checks it: not empty, at most
    /// [`Self::MAX_CHARS`] characters, no control characters other than line feed and tab,
    /// no bidirectional controls.
    ///
    /// # Errors
    ///
    /// [`TextError`] naming the problem.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let text = raw.trim().replace("\r\n", "\n").replace('\r', "\n");
        if text.is_empty() {
            return Err(TextError::Empty);
        }
        if let Some((position, character)) = text.char_indices().find(|&(_, c)| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        }) {
            return Err(TextError::ForbiddenCharacter {
                character,
                position,
            });
        }
        let length = text.chars().count();
        if length > Self::MAX_CHARS {
            return Err(TextError::TooLong {
                length,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(text.into()))
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NoteText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteText({:?})", self.0)
    }
}

impl fmt::Display for NoteText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl<'de> Deserialize<'de> for NoteText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A staff note on a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Identifier.
    pub id: NoteId,
    /// The note.
    pub text: NoteText,
    /// An optional tag for filtering (`allergy`, `vip`).
    pub tag: Option<Text>,
    /// Who wrote it.
    pub author: Actor,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it was last edited.
    pub updated_at: DateTime<Utc>,
}

/// One newsletter decision: subscribed or unsubscribed, when, and through what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    /// When the decision was made.
    pub at: DateTime<Utc>,
    /// `true` for subscribe, `false` for unsubscribe.
    pub subscribed: bool,
    /// Where it came from (`booking form`, `staff`, `unsubscribe link`).
    pub source: Text,
}

/// A brochure a customer asked for, and when it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrochureRequest {
    /// Identifier.
    pub id: BrochureRequestId,
    /// Which brochure.
    pub brochure: Text,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// When it was sent; `None` while pending.
    pub sent_at: Option<DateTime<Utc>>,
}

/// A named group of customers (a segment), such as "2026 newsletter" or "school groups".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerList {
    /// Identifier.
    pub id: ListId,
    /// Its name, unique among lists (compared ignoring case).
    pub name: Text,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Optimistic concurrency version: 0 before the first commit, then +1 per commit.
    pub version: u64,
}

impl CustomerList {
    /// The name as lists are compared for uniqueness: ignoring case, width and spacing.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::CustomerList;
    /// use customer_directory::values::ListId;
    /// use customer_directory::Text;
    /// let list = CustomerList { id: ListId::new(), name: Text::parse("School  Groups")?, created_at: chrono::Utc::now(), version: 0 };
    /// assert_eq!(list.name_key(), "school groups");
    /// # Ok::<(), customer_directory::values::TextError>(())
    /// ```
    #[must_use]
    pub fn name_key(&self) -> String {
        crate::values::text::matching_form(self.name.as_str()).into_owned()
    }
}

/// The records kept on a profile besides its contact details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRecords {
    /// Notes, in the order staff arranged them.
    #[serde(default)]
    pub notes: Vec<Note>,
    /// The newsletter consent log, oldest first; the last entry is the current decision.
    #[serde(default)]
    pub newsletter: Vec<ConsentEvent>,
    /// The lists the customer belongs to.
    #[serde(default)]
    pub lists: BTreeSet<ListId>,
    /// Brochure requests, oldest first.
    #[serde(default)]
    pub brochure_requests: Vec<BrochureRequest>,
}

impl ProfileRecords {
    /// Whether the customer is subscribed to the newsletter now: the last decision, or no
    /// if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::ProfileRecords;
    /// assert!(!ProfileRecords::default().subscribed());
    /// ```
    #[must_use]
    pub fn subscribed(&self) -> bool {
        self.newsletter.last().is_some_and(|event| event.subscribed)
    }

    /// Whether nothing is recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Adds `other`'s records to these, by the merge rules: notes appended in their order,
    /// lists unioned, consent logs interleaved by time (on a tie, the unsubscribe comes last
    /// so it wins), brochure requests interleaved by time.
    pub(crate) fn absorb(&mut self, other: &Self) {
        self.notes.extend(other.notes.iter().cloned());
        self.lists.extend(other.lists.iter().copied());
        self.newsletter.extend(other.newsletter.iter().cloned());
        self.newsletter
            .sort_by_key(|event| (event.at, !event.subscribed));
        self.newsletter.dedup();
        self.brochure_requests
            .extend(other.brochure_requests.iter().cloned());
        self.brochure_requests.sort_by_key(|r| r.requested_at);
    }

    /// Removes what `absorb(other)` added, keeping anything added since.
    pub(crate) fn release(&mut self, before: &Self, other: &Self) {
        self.notes
            .retain(|note| !other.notes.iter().any(|theirs| theirs.id == note.id));
        self.lists
            .retain(|list| before.lists.contains(list) || !other.lists.contains(list));
        self.newsletter
            .retain(|event| before.newsletter.contains(event) || !other.newsletter.contains(event));
        self.brochure_requests.retain(|request| {
            before.brochure_requests.iter().any(|r| r.id == request.id)
                || !other.brochure_requests.iter().any(|r| r.id == request.id)
        });
    }
}
