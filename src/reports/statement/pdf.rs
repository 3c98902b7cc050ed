//! The statement as a PDF business document, laid out with `krilla`.
//!
//! `krilla` embeds and subsets the fonts (so any script the font covers prints as itself,
//! not as `?`), maps every glyph back to its text (so the PDF can be searched and copied),
//! and writes tagged PDF: this module tags the headings, the paragraphs and the table
//! structure (header cells, rows, data cells) and marks what only decorates or repeats
//! (rules, the header repeated on later pages, page numbers) as artifacts.
//!
//! Text is shaped here with `rustybuzz` (the shaper `krilla` itself uses) so that every run
//! is measured before it is placed: amounts are right-aligned, and text wider than its
//! column is set smaller and, past a minimum size, shortened with `…` instead of running
//! into the next column.

use std::num::NonZeroU16;

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime as PdfDateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, Node, SpanTag, TableHeaderScope, Tag, TagGroup,
    TagTree,
};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Data, Document};

use crate::reports::statement::{Statement, StatementError};
use crate::reports::summary::{BookingLine, CurrencyTotals};
use crate::settings::statement::{FontFile, StatementSettings};

/// A colour as red, green, blue.
type Rgb = [u8; 3];

fn paint(color: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(color[0], color[1], color[2]).into()
}

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// The lowest point table rows may reach; the footer sits below.
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - 72.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 34.0;
/// Where the table starts on pages after the first, below the running header.
const CONTINUATION_TOP: f32 = 96.0;

const BODY_SIZE: f32 = 8.5;
const SMALL_SIZE: f32 = 7.5;
/// Text is never set smaller than this to make it fit; it is shortened instead. Small
/// enough that every amount up to the largest `i64` of minor units fits its column whole.
const MIN_SIZE: f32 = 4.5;
const HEADER_ROW: f32 = 18.0;
const ROW: f32 = 15.0;
const CELL_PADDING: f32 = 4.0;

const BLACK: Rgb = [0x1f, 0x29, 0x37];
const GREY: Rgb = [0x6b, 0x72, 0x80];
const RULE: Rgb = [0xc8, 0xcd, 0xd4];
const HEADER_FILL: Rgb = [0xee, 0xf0, 0xf3];
const ACCENT: Rgb = [0x1d, 0x4e, 0x89];

/// The table's columns: title, width, right-aligned.
const COLUMNS: [(&str, f32, bool); 6] = [
    ("Date", 62.0, false),
    ("Code", 112.0, false),
    ("Status", 70.0, false),
    ("Total", 84.0, true),
    ("Paid", 84.0, true),
    ("Due", 83.28, true),
];

/// A font ready to shape and to embed.
struct Face<'a> {
    embedded: Font,
    shaper: rustybuzz::Face<'a>,
}

impl<'a> Face<'a> {
    /// The host's font file, or the bundled one.
    fn load(file: Option<&'a FontFile>, bundled: &'static [u8]) -> Result<Self, StatementError> {
        let (bytes, data): (&'a [u8], Data) = match file {
            Some(file) => (file.bytes(), Data::from(file.shared())),
            None => (bundled, Data::from(bundled)),
        };
        let refused = || StatementError::Font {
            reason: "the font file is not a TrueType or OpenType font this renderer can use"
                .to_owned(),
        };
        let shaper = rustybuzz::Face::from_slice(bytes, 0).ok_or_else(refused)?;
        let embedded = Font::new(data, 0).ok_or_else(refused)?;
        Ok(Self { embedded, shaper })
    }

    /// `text` shaped into glyphs, and its advance in ems.
    fn shape(&self, text: &str) -> (Vec<KrillaGlyph>, f32) {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let output = rustybuzz::shape(&self.shaper, &[], buffer);
        #[allow(clippy::cast_precision_loss)]
        let per_em = self.shaper.units_per_em().max(1) as f32;
        // Each glyph stands for the text from its cluster to the next cluster's start, so
        // the PDF maps it back to exactly that text (whatever the direction).
        let mut starts: Vec<usize> = output
            .glyph_infos()
            .iter()
            .map(|info| info.cluster as usize)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut width = 0.0;
        let glyphs = output
            .glyph_infos()
            .iter()
            .zip(output.glyph_positions())
            .map(|(info, position)| {
                let start = (info.cluster as usize).min(text.len());
                let end = starts
                    .iter()
                    .copied()
                    .find(|&next| next > start)
                    .unwrap_or(text.len());
                #[allow(clippy::cast_precision_loss)]
                let [x_advance, x_offset, y_offset, y_advance] = [
                    position.x_advance,
                    position.x_offset,
                    position.y_offset,
                    position.y_advance,
                ]
                .map(|value| value as f32 / per_em);
                width += x_advance;
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    x_advance,
                    x_offset,
                    y_offset,
                    y_advance,
                    start..end,
                    None,
                )
            })
            .collect();
        (glyphs, width)
    }
}

/// The regular and the bold face.
struct Faces<'a> {
    regular: Face<'a>,
    bold: Face<'a>,
}

/// Where a run of text goes horizontally.
#[derive(Clone, Copy)]
enum Align {
    /// Starts at x.
    Left(f32),
    /// Ends at x.
    Right(f32),
}

/// One run of text: what, where, how.
struct Run<'t> {
    text: &'t str,
    align: Align,
    baseline: f32,
    size: f32,
    bold: bool,
    color: Rgb,
    /// The widest it may be; wider text is set smaller, then shortened.
    max_width: f32,
}

impl<'t> Run<'t> {
    fn new(text: &'t str, align: Align, baseline: f32, size: f32) -> Self {
        Self {
            text,
            align,
            baseline,
            size,
            bold: false,
            color: BLACK,
            max_width: CONTENT_WIDTH,
        }
    }

    fn bold(mut self) -> Self {
        self.bold = true;
        self
    }

    fn color(mut self, color: Rgb) -> Self {
        self.color = color;
        self
    }

    fn within(mut self, max_width: f32) -> Self {
        self.max_width = max_width;
        self
    }
}

/// Draws runs on one page, tagging each as content or as an artifact.
struct Painter<'s, 'p, 'f> {
    surface: &'s mut Surface<'p>,
    faces: &'f Faces<'f>,
}

impl Painter<'_, '_, '_> {
    /// Draws `run` as tagged content; `None` when there is nothing to draw.
    fn text(&mut self, run: &Run<'_>) -> Option<Identifier> {
        if run.text.trim().is_empty() {
            return None;
        }
        let id = self
            .surface
            .start_tagged(ContentTag::Span(SpanTag::empty()));
        self.draw(run);
        self.surface.end_tagged();
        Some(id)
    }

    /// Draws `run` as an artifact of `kind`: not part of the document's reading order.
    fn artifact_text(&mut self, run: &Run<'_>, kind: ArtifactType) {
        if run.text.trim().is_empty() {
            return;
        }
        self.surface
            .start_tagged(ContentTag::Artifact(Artifact::with_kind(kind)));
        self.draw(run);
        self.surface.end_tagged();
    }

    fn draw(&mut self, run: &Run<'_>) {
        let mut face = if run.bold {
            &self.faces.bold
        } else {
            &self.faces.regular
        };
        let mut fitted = fit(face, run.text, run.size, run.max_width);
        // Bold is wider: rather lose the weight than a digit.
        if run.bold && fitted.0 != run.text {
            face = &self.faces.regular;
            fitted = fit(face, run.text, run.size, run.max_width);
        }
        let (text, size, glyphs, width) = fitted;
        let x = match run.align {
            Align::Left(x) => x,
            Align::Right(x) => x - width,
        };
        self.surface.set_fill(Some(Fill {
            paint: paint(run.color),
            ..Fill::default()
        }));
        self.surface.draw_glyphs(
            Point::from_xy(x, run.baseline),
            &glyphs,
            face.embedded.clone(),
            &text,
            size,
            false,
        );
    }

    /// A straight rule, as a layout artifact.
    fn rule(&mut self, from: (f32, f32), to: (f32, f32), width: f32, color: Rgb) {
        let mut path = PathBuilder::new();
        path.move_to(from.0, from.1);
        path.line_to(to.0, to.1);
        let Some(path) = path.finish() else { return };
        self.surface
            .start_tagged(ContentTag::Artifact(Artifact::with_kind(
                ArtifactType::Layout,
            )));
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            paint: paint(color),
            width,
            ..Stroke::default()
        }));
        self.surface.draw_path(&path);
        self.surface.set_stroke(None);
        self.surface.end_tagged();
    }

    /// A filled rectangle, as a layout artifact.
    fn band(&mut self, x: f32, y: f32, width: f32, height: f32, color: Rgb) {
        let Some(rect) = Rect::from_xywh(x, y, width, height) else {
            return;
        };
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        let Some(path) = path.finish() else { return };
        self.surface
            .start_tagged(ContentTag::Artifact(Artifact::with_kind(
                ArtifactType::Layout,
            )));
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(Fill {
            paint: paint(color),
            ..Fill::default()
        }));
        self.surface.draw_path(&path);
        self.surface.end_tagged();
    }
}

/// `text` shaped at the largest size up to `size` at which it fits `max_width`; shortened
/// with `…` when even [`MIN_SIZE`] is too wide. Returns the text drawn, its size, glyphs
/// and width in points.
fn fit(
    face: &Face<'_>,
    text: &str,
    size: f32,
    max_width: f32,
) -> (String, f32, Vec<KrillaGlyph>, f32) {
    let (glyphs, ems) = face.shape(text);
    if ems * size <= max_width || ems <= 0.0 {
        return (text.to_owned(), size, glyphs, ems * size);
    }
    let smaller = (max_width / ems).max(MIN_SIZE).min(size);
    if ems * smaller <= max_width {
        return (text.to_owned(), smaller, glyphs, ems * smaller);
    }
    // The longest prefix (in characters) that fits with an ellipsis: the prefix of `k`
    // characters ends at `boundaries[k]`, for every `k` from none to all of them.
    let mut boundaries: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
    boundaries.push(text.len());
    let (mut low, mut high) = (0, boundaries.len() - 1);
    while low < high {
        let middle = (low + high).div_ceil(2);
        let candidate = format!("{}…", &text[..boundaries[middle]]);
        if face.shape(&candidate).1 * smaller <= max_width {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    let shortened = format!("{}…", &text[..boundaries.get(low).copied().unwrap_or(0)]);
    let (glyphs, ems) = face.shape(&shortened);
    (shortened, smaller, glyphs, ems * smaller)
}

/// The x of each column's left edge, and the table's right edge.
fn column_edges() -> [f32; 7] {
    let mut edges = [MARGIN; 7];
    for (index, (_, width, _)) in COLUMNS.iter().enumerate() {
        edges[index + 1] = edges[index] + width;
    }
    edges
}

/// Which booking lines each page holds, and whether the totals close it.
struct PagePlan {
    lines: std::ops::Range<usize>,
    totals: bool,
}

/// The height the totals block needs: heading, header row, a row per currency, the note.
fn totals_height(statement: &Statement) -> f32 {
    #[allow(clippy::cast_precision_loss)]
    let rows = statement.totals.len().max(1) as f32;
    let note = if has_cancelled(statement) { 16.0 } else { 0.0 };
    18.0 + 24.0 + HEADER_ROW + rows * ROW + note
}

fn has_cancelled(statement: &Statement) -> bool {
    statement.lines.iter().any(|line| !line.counted)
}

/// Splits the lines over pages: as many rows as fit below the table header, the totals on
/// the last page if they fit there, else on a page of their own.
fn plan(statement: &Statement, first_table_top: f32) -> Vec<PagePlan> {
    let rows_from = |top: f32| -> usize {
        // Both are small positive numbers of points.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rows = ((CONTENT_BOTTOM - top - HEADER_ROW) / ROW).floor().max(1.0) as usize;
        rows
    };
    // An empty statement still shows its (empty) table with one explanatory row.
    let line_count = statement.lines.len();
    let mut pages = Vec::new();
    let mut start = 0;
    let mut top = first_table_top;
    loop {
        let end = (start + rows_from(top)).min(line_count);
        pages.push(PagePlan {
            lines: start..end,
            totals: false,
        });
        start = end;
        if start >= line_count {
            break;
        }
        top = CONTINUATION_TOP;
    }
    let last_top = if pages.len() == 1 {
        first_table_top
    } else {
        CONTINUATION_TOP
    };
    #[allow(clippy::cast_precision_loss)]
    let rows_on_last = pages.last().map_or(0, |page| page.lines.len().max(1)) as f32;
    let table_end = last_top + HEADER_ROW + rows_on_last * ROW;
    if table_end + totals_height(statement) <= CONTENT_BOTTOM {
        if let Some(last) = pages.last_mut() {
            last.totals = true;
        }
    } else {
        pages.push(PagePlan {
            lines: line_count..line_count,
            totals: true,
        });
    }
    pages
}

/// The tag tree's pieces, collected while the pages are drawn in reading order.
#[derive(Default)]
struct Tags {
    /// Everything before the table: headings and paragraphs, in order.
    front: Vec<Node>,
    /// The header cells of the bookings table (first page only; later repeats are artifacts).
    header: Vec<Option<Identifier>>,
    /// One entry per booking line: its cells.
    rows: Vec<Vec<Option<Identifier>>>,
    /// The "no bookings" line of an empty statement.
    empty: Option<Identifier>,
    totals_heading: Option<Identifier>,
    totals_header: Vec<Option<Identifier>>,
    totals_rows: Vec<Vec<Option<Identifier>>>,
    note: Option<Identifier>,
}

fn paragraph(ids: impl IntoIterator<Item = Option<Identifier>>) -> Option<Node> {
    let mut group = TagGroup::new(Tag::P);
    let mut any = false;
    for id in ids.into_iter().flatten() {
        group.push(id);
        any = true;
    }
    any.then(|| group.into())
}

fn heading(level: u16, id: Option<Identifier>) -> Option<Node> {
    let level = NonZeroU16::new(level)?;
    let mut group = TagGroup::new(Tag::Hn(level, None));
    group.push(id?);
    Some(group.into())
}

/// A table row of header cells (column headers) or of a row header and data cells.
fn row(cells: Vec<Option<Identifier>>, all_headers: bool, row_header: bool) -> TagGroup {
    let mut tr = TagGroup::new(Tag::TR);
    for (index, cell) in cells.into_iter().enumerate() {
        let mut group = if all_headers {
            TagGroup::new(Tag::TH(TableHeaderScope::Column))
        } else if row_header && index == 0 {
            TagGroup::new(Tag::TH(TableHeaderScope::Row))
        } else {
            TagGroup::new(Tag::TD)
        };
        if let Some(id) = cell {
            group.push(id);
        }
        tr.push(group);
    }
    tr
}

fn table(header: Vec<Option<Identifier>>, body: Vec<TagGroup>) -> TagGroup {
    let mut head = TagGroup::new(Tag::THead);
    head.push(row(header, true, false));
    let mut rows = TagGroup::new(Tag::TBody);
    for tr in body {
        rows.push(tr);
    }
    let mut table = TagGroup::new(Tag::Table);
    table.push(head);
    table.push(rows);
    table
}

impl Tags {
    fn into_tree(self, language: &str) -> TagTree {
        let mut tree = TagTree::new().with_lang(Some(language.to_owned()));
        for node in self.front {
            tree.push(node);
        }
        let mut body: Vec<TagGroup> = self
            .rows
            .into_iter()
            .map(|cells| row(cells, false, false))
            .collect();
        if let Some(empty) = self.empty {
            body.push(row(vec![Some(empty)], false, false));
        }
        tree.push(table(self.header, body));
        if let Some(node) = heading(2, self.totals_heading) {
            tree.push(node);
        }
        let totals = self
            .totals_rows
            .into_iter()
            .map(|cells| row(cells, false, true))
            .collect();
        tree.push(table(self.totals_header, totals));
        if let Some(node) = paragraph([self.note]) {
            tree.push(node);
        }
        tree
    }
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// The period as the days it covers: the end is exclusive, so a period ending at midnight
/// shows the day before as its last day.
fn period(statement: &Statement) -> String {
    if statement.until <= statement.from {
        return day(statement.from);
    }
    let last = statement.until - TimeDelta::nanoseconds(1);
    format!("{} – {}", day(statement.from), day(last))
}

fn pdf_date(at: DateTime<Utc>) -> PdfDateTime {
    let part = |value: u32| u8::try_from(value).unwrap_or(0);
    PdfDateTime::new(u16::try_from(at.year()).unwrap_or(0))
        .month(part(at.month()))
        .day(part(at.day()))
        .hour(part(at.hour()))
        .minute(part(at.minute()))
        .second(part(at.second()))
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// Renders `statement` as a PDF document for `settings`' business.
pub(crate) fn render(
    statement: &Statement,
    settings: &StatementSettings,
) -> Result<Vec<u8>, StatementError> {
    let regular = Face::load(settings.font.as_ref(), dejavu::sans::regular())?;
    let bold = match (&settings.bold_font, &settings.font) {
        (Some(bold), _) => Face::load(Some(bold), dejavu::sans::bold())?,
        (None, Some(regular)) => Face::load(Some(regular), dejavu::sans::bold())?,
        (None, None) => Face::load(None, dejavu::sans::bold())?,
    };
    let faces = Faces { regular, bold };
    let business = &settings.business;
    let generated = day(statement.generated_at);
    let period = period(statement);

    let mut document = Document::new();
    let mut tags = Tags::default();
    let page_settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or_else(|| {
        StatementError::Pdf("the page size is not a valid PDF page size".to_owned())
    })?;

    // The first page's letterhead decides where its table starts, so lay it out once
    // without drawing to learn its height.
    let first_table_top = letterhead_height(statement, settings);
    let pages = plan(statement, first_table_top);
    let page_count = pages.len();
    let edges = column_edges();

    for (index, page_plan) in pages.iter().enumerate() {
        let mut page = document.start_page_with(page_settings.clone());
        let mut surface = page.surface();
        let mut painter = Painter {
            surface: &mut surface,
            faces: &faces,
        };
        let mut y = if index == 0 {
            letterhead(
                &mut painter,
                &mut tags,
                statement,
                settings,
                &period,
                &generated,
            )
        } else {
            running_header(&mut painter, statement, settings, &period);
            CONTINUATION_TOP
        };

        let draws_table = !page_plan.lines.is_empty() || index == 0;
        if draws_table {
            y = bookings_table(
                &mut painter,
                &mut tags,
                statement,
                page_plan,
                index == 0,
                y,
                &edges,
            );
        }
        if page_plan.totals {
            totals_block(&mut painter, &mut tags, statement, y + 18.0, &edges);
        }

        // Footer: the business, the statement, the page number.
        painter.rule(
            (MARGIN, FOOTER_BASELINE - 12.0),
            (PAGE_WIDTH - MARGIN, FOOTER_BASELINE - 12.0),
            0.5,
            RULE,
        );
        let left = format!(
            "{} · Statement for {} · {}",
            business.name, statement.addressee, generated
        );
        painter.artifact_text(
            &Run::new(&left, Align::Left(MARGIN), FOOTER_BASELINE, SMALL_SIZE)
                .color(GREY)
                .within(CONTENT_WIDTH - 90.0),
            ArtifactType::PaginationOther,
        );
        let number = format!("Page {} of {page_count}", index + 1);
        painter.artifact_text(
            &Run::new(
                &number,
                Align::Right(PAGE_WIDTH - MARGIN),
                FOOTER_BASELINE,
                SMALL_SIZE,
            )
            .color(GREY)
            .within(85.0),
            ArtifactType::PaginationOther,
        );
        surface.finish();
        page.finish();
    }

    let title = format!("Statement for {}, {period}", statement.addressee);
    let mut metadata = Metadata::new()
        .title(title)
        .language(settings.language.clone())
        .creator("customer-directory".to_owned())
        .creation_date(pdf_date(statement.generated_at));
    if !business.name.trim().is_empty() {
        metadata = metadata.authors(vec![business.name.clone()]);
    }
    document.set_metadata(metadata);
    document.set_tag_tree(tags.into_tree(&settings.language));
    document
        .finish()
        .map_err(|error| StatementError::Pdf(error.to_string()))
}

/// The lines of the business block: name first, then address and contact.
fn business_lines(settings: &StatementSettings) -> impl Iterator<Item = &str> {
    let business = &settings.business;
    business
        .address
        .iter()
        .chain(&business.contact)
        .map(String::as_str)
        .filter(|line| !line.trim().is_empty())
}

const TITLE_BASELINE: f32 = 70.0;
const LINE: f32 = 11.5;

/// Where the first page's table starts: below the business block and the addressee block.
fn letterhead_height(statement: &Statement, settings: &StatementSettings) -> f32 {
    #[allow(clippy::cast_precision_loss)]
    let business = business_lines(settings).count() as f32;
    let business_end = TITLE_BASELINE + 16.0 + business * LINE;
    let addressee_top = business_end.max(TITLE_BASELINE + 3.0 * LINE + 8.0) + 26.0;
    #[allow(clippy::cast_precision_loss)]
    let address = statement.address.len() as f32;
    addressee_top + 12.0 + 16.0 + address * LINE + 22.0
}

/// Draws the first page's letterhead; returns where the table starts.
fn letterhead(
    painter: &mut Painter<'_, '_, '_>,
    tags: &mut Tags,
    statement: &Statement,
    settings: &StatementSettings,
    period: &str,
    generated: &str,
) -> f32 {
    let right = PAGE_WIDTH - MARGIN;
    let half = CONTENT_WIDTH / 2.0 - 10.0;
    // The heading first: it is what the document is.
    let title = painter.text(
        &Run::new("Statement", Align::Right(right), TITLE_BASELINE, 20.0)
            .bold()
            .color(ACCENT)
            .within(half),
    );
    if let Some(node) = heading(1, title) {
        tags.front.push(node);
    }
    let business = &settings.business;
    let name = painter.text(
        &Run::new(&business.name, Align::Left(MARGIN), TITLE_BASELINE, 14.0)
            .bold()
            .within(half),
    );
    let mut y = TITLE_BASELINE + 16.0;
    let mut lines = vec![name];
    for line in business_lines(settings) {
        lines.push(
            painter.text(
                &Run::new(line, Align::Left(MARGIN), y, BODY_SIZE)
                    .color(GREY)
                    .within(half),
            ),
        );
        y += LINE;
    }
    if let Some(node) = paragraph(lines) {
        tags.front.push(node);
    }

    // The statement's facts, right-aligned under the title.
    let facts = [
        format!("Period: {period}"),
        format!("Statement date: {generated}"),
        format!("Customer: {}", statement.customer),
    ];
    let mut fact_y = TITLE_BASELINE + 18.0;
    let mut ids = Vec::new();
    for fact in &facts {
        ids.push(
            painter.text(&Run::new(fact, Align::Right(right), fact_y, BODY_SIZE).within(half)),
        );
        fact_y += LINE;
    }
    if let Some(node) = paragraph(ids) {
        tags.front.push(node);
    }

    // The addressee.
    let mut y = y.max(TITLE_BASELINE + 3.0 * LINE + 8.0) + 26.0;
    let label = painter.text(
        &Run::new("Statement for", Align::Left(MARGIN), y, SMALL_SIZE)
            .color(GREY)
            .within(half),
    );
    y += 16.0;
    let mut lines = vec![
        label,
        painter.text(
            &Run::new(&statement.addressee, Align::Left(MARGIN), y, 12.0)
                .bold()
                .within(CONTENT_WIDTH),
        ),
    ];
    for line in &statement.address {
        y += LINE;
        lines.push(
            painter.text(
                &Run::new(line, Align::Left(MARGIN), y, BODY_SIZE + 0.5).within(CONTENT_WIDTH),
            ),
        );
    }
    if let Some(node) = paragraph(lines) {
        tags.front.push(node);
    }
    letterhead_height(statement, settings)
}

/// The header of pages after the first: who and what, as an artifact (it repeats).
fn running_header(
    painter: &mut Painter<'_, '_, '_>,
    statement: &Statement,
    settings: &StatementSettings,
    period: &str,
) {
    let baseline = 62.0;
    painter.artifact_text(
        &Run::new(&settings.business.name, Align::Left(MARGIN), baseline, 10.0)
            .bold()
            .within(CONTENT_WIDTH / 2.0 - 10.0),
        ArtifactType::PaginationOther,
    );
    let what = format!("Statement for {} · {period}", statement.addressee);
    painter.artifact_text(
        &Run::new(
            &what,
            Align::Right(PAGE_WIDTH - MARGIN),
            baseline,
            BODY_SIZE,
        )
        .color(GREY)
        .within(CONTENT_WIDTH / 2.0 - 10.0),
        ArtifactType::PaginationOther,
    );
    painter.rule(
        (MARGIN, baseline + 10.0),
        (PAGE_WIDTH - MARGIN, baseline + 10.0),
        0.5,
        RULE,
    );
}

/// The cells of one booking line, as shown.
fn cells(line: &BookingLine) -> [String; 6] {
    let status = if line.counted {
        line.status.as_str().to_owned()
    } else {
        format!("{} *", line.status.as_str())
    };
    [
        day(line.starts_at),
        line.code.clone(),
        status,
        line.total.to_string(),
        line.paid.to_string(),
        line.due.to_string(),
    ]
}

/// Draws one row of cells at `top` in the table's columns; returns each cell's identifier
/// (or draws them as artifacts when `artifact`).
fn table_row(
    painter: &mut Painter<'_, '_, '_>,
    texts: &[String],
    top: f32,
    height: f32,
    header: bool,
    artifact: bool,
    color: Rgb,
) -> Vec<Option<Identifier>> {
    let baseline = top + height / 2.0 + 3.0;
    let edges = column_edges();
    texts
        .iter()
        .zip(COLUMNS)
        .zip(edges.windows(2))
        .map(|((text, (_, width, right_aligned)), edge)| {
            let align = if right_aligned {
                Align::Right(edge[1] - CELL_PADDING)
            } else {
                Align::Left(edge[0] + CELL_PADDING)
            };
            let mut run = Run::new(text, align, baseline, BODY_SIZE)
                .color(color)
                .within(width - 2.0 * CELL_PADDING);
            if header {
                run = run.bold();
            }
            if artifact {
                painter.artifact_text(&run, ArtifactType::PaginationOther);
                None
            } else {
                painter.text(&run)
            }
        })
        .collect()
}

/// Draws this page's part of the bookings table from `top`; returns its bottom.
fn bookings_table(
    painter: &mut Painter<'_, '_, '_>,
    tags: &mut Tags,
    statement: &Statement,
    page_plan: &PagePlan,
    first_page: bool,
    top: f32,
    edges: &[f32; 7],
) -> f32 {
    let left = edges[0];
    let right = edges[6];
    painter.band(left, top, right - left, HEADER_ROW, HEADER_FILL);
    let titles: Vec<String> = COLUMNS
        .iter()
        .map(|(title, ..)| (*title).to_owned())
        .collect();
    // The header is content once (first page), and a repeated artifact after that.
    let ids = table_row(painter, &titles, top, HEADER_ROW, true, !first_page, BLACK);
    if first_page {
        tags.header = ids;
    }
    let mut y = top + HEADER_ROW;
    for line in &statement.lines[page_plan.lines.clone()] {
        let color = if line.counted { BLACK } else { GREY };
        let ids = table_row(painter, &cells(line), y, ROW, false, false, color);
        tags.rows.push(ids);
        y += ROW;
        painter.rule((left, y), (right, y), 0.4, RULE);
    }
    if statement.lines.is_empty() {
        tags.empty = painter.text(
            &Run::new(
                "No bookings in this period.",
                Align::Left(left + CELL_PADDING),
                y + ROW / 2.0 + 3.0,
                BODY_SIZE,
            )
            .color(GREY),
        );
        y += ROW;
    }
    // Column rules and the frame.
    for &x in edges {
        painter.rule((x, top), (x, y), 0.5, RULE);
    }
    painter.rule((left, top), (right, top), 0.8, GREY);
    painter.rule(
        (left, top + HEADER_ROW),
        (right, top + HEADER_ROW),
        0.8,
        GREY,
    );
    painter.rule((left, y), (right, y), 0.8, GREY);
    y
}

/// Draws the totals per currency from `top`, in the amount columns, and the note on
/// cancelled bookings.
fn totals_block(
    painter: &mut Painter<'_, '_, '_>,
    tags: &mut Tags,
    statement: &Statement,
    top: f32,
    edges: &[f32; 7],
) {
    let left = edges[0];
    let right = edges[6];
    tags.totals_heading = painter.text(
        &Run::new("Totals", Align::Left(left), top + 14.0, 11.0)
            .bold()
            .color(ACCENT),
    );
    let top = top + 24.0;
    // The currency sits where date, code and status are; the amounts under theirs.
    let label_edges = [left, edges[3]];
    painter.band(left, top, right - left, HEADER_ROW, HEADER_FILL);
    let header = ["Currency", "Total", "Paid", "Due"];
    let mut header_ids = Vec::new();
    let baseline = |row_top: f32, height: f32| row_top + height / 2.0 + 3.0;
    header_ids.push(
        painter.text(
            &Run::new(
                header[0],
                Align::Left(left + CELL_PADDING),
                baseline(top, HEADER_ROW),
                BODY_SIZE,
            )
            .bold(),
        ),
    );
    for (column, title) in header.iter().enumerate().skip(1) {
        header_ids.push(
            painter.text(
                &Run::new(
                    title,
                    Align::Right(edges[column + 3] - CELL_PADDING),
                    baseline(top, HEADER_ROW),
                    BODY_SIZE,
                )
                .bold(),
            ),
        );
    }
    tags.totals_header = header_ids;
    let mut y = top + HEADER_ROW;
    let rows: Vec<&CurrencyTotals> = statement.totals.iter().collect();
    for totals in rows {
        let mut ids = vec![
            painter.text(
                &Run::new(
                    totals.currency.as_str(),
                    Align::Left(left + CELL_PADDING),
                    baseline(y, ROW),
                    BODY_SIZE,
                )
                .bold(),
            ),
        ];
        for (column, amount) in [totals.total, totals.paid, totals.due].iter().enumerate() {
            let edge = edges[column + 4];
            let width = COLUMNS[column + 3].1;
            ids.push(
                painter.text(
                    &Run::new(
                        &amount.to_string(),
                        Align::Right(edge - CELL_PADDING),
                        baseline(y, ROW),
                        BODY_SIZE,
                    )
                    .bold()
                    .within(width - 2.0 * CELL_PADDING),
                ),
            );
        }
        tags.totals_rows.push(ids);
        y += ROW;
        painter.rule((left, y), (right, y), 0.4, RULE);
    }
    if statement.totals.is_empty() {
        tags.totals_rows.push(vec![
            painter.text(
                &Run::new(
                    "Nothing to total.",
                    Align::Left(left + CELL_PADDING),
                    baseline(y, ROW),
                    BODY_SIZE,
                )
                .color(GREY),
            ),
        ]);
        y += ROW;
    }
    for &x in label_edges.iter().chain(&edges[4..]) {
        painter.rule((x, top), (x, y), 0.5, RULE);
    }
    painter.rule((left, top), (right, top), 0.8, GREY);
    painter.rule(
        (left, top + HEADER_ROW),
        (right, top + HEADER_ROW),
        0.8,
        GREY,
    );
    painter.rule((left, y), (right, y), 0.8, GREY);
    if has_cancelled(statement) {
        tags.note = painter.text(
            &Run::new(
                "* cancelled: listed, not included in the totals",
                Align::Left(left),
                y + 14.0,
                SMALL_SIZE,
            )
            .color(GREY),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::customer::Customer;
    use crate::records::profile::Profile;
    use crate::values::booking_status::BookingStatus;
    use crate::values::ids::BookingId;
    use crate::values::money::{Currency, Money};
    use chrono::TimeZone;

    fn statement(lines: usize) -> Statement {
        let at = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
        let customer = Customer::new(Profile::default(), at);
        let mut statement = Statement::new(&customer, &[], at, at, at).unwrap();
        let eur = Currency::parse("EUR").unwrap();
        statement.lines = (0..lines)
            .map(|n| BookingLine {
                booking: BookingId::new(),
                code: format!("B-{n}"),
                status: BookingStatus::PAID,
                starts_at: at,
                total: Money::new(100, eur),
                paid: Money::new(0, eur),
                due: Money::new(100, eur),
                counted: true,
            })
            .collect();
        statement
    }

    #[test]
    fn every_line_is_on_exactly_one_page_and_the_totals_on_the_last() {
        for lines in [0, 1, 20, 39, 40, 41, 42, 43, 80, 300] {
            let statement = statement(lines);
            let pages = plan(&statement, 230.0);
            let mut next = 0;
            for page in &pages {
                assert_eq!(page.lines.start, next, "{lines} lines");
                next = page.lines.end;
            }
            assert_eq!(next, lines);
            let with_totals: Vec<usize> = (0..pages.len()).filter(|&i| pages[i].totals).collect();
            assert_eq!(with_totals, [pages.len() - 1], "{lines} lines");
        }
    }

    #[test]
    fn text_too_wide_is_set_smaller_then_shortened() {
        let face = Face::load(None, dejavu::sans::regular()).unwrap();
        let (text, size, _, width) = fit(&face, "HK-2101", BODY_SIZE, 100.0);
        assert_eq!((text.as_str(), size), ("HK-2101", BODY_SIZE));
        assert!(width > 0.0 && width <= 100.0);

        let (text, size, _, width) = fit(&face, "-92233720368547758.08 EUR", BODY_SIZE, 76.0);
        assert_eq!(
            text, "-92233720368547758.08 EUR",
            "a little smaller is enough"
        );
        assert!((MIN_SIZE..BODY_SIZE).contains(&size) && width <= 76.0);

        let long = "Ω".repeat(500);
        let (text, size, _, width) = fit(&face, &long, BODY_SIZE, 100.0);
        assert!(text.ends_with('…') && text.len() < long.len());
        assert!((size - MIN_SIZE).abs() < f32::EPSILON && width <= 100.0);
    }

    /// When every character but the last fits with the ellipsis, the search for the longest
    /// prefix reaches the end of the text (it once read past it).
    #[test]
    fn a_text_one_wide_character_too_long_keeps_all_but_that_character() {
        let face = Face::load(None, dejavu::sans::regular()).unwrap();
        let prefix = "i".repeat(40);
        let ellipsized = format!("{prefix}…");
        let max_width = face.shape(&ellipsized).1 * MIN_SIZE + 0.01;
        let wide = ["W", "M", "Ж", "—", "%"]
            .into_iter()
            .find(|wide| face.shape(&format!("{prefix}{wide}")).1 * MIN_SIZE > max_width)
            .expect("a character wider than the ellipsis");
        let text = format!("{prefix}{wide}");
        let (shown, size, _, width) = fit(&face, &text, BODY_SIZE, max_width);
        assert_eq!(shown, ellipsized);
        assert!((size - MIN_SIZE).abs() < f32::EPSILON && width <= max_width);
    }
}
