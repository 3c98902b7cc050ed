//! Minimal PDF output: lines of text set in a standard font on A4 pages.
//!
//! Uses Courier, one of the 14 standard fonts every PDF reader has, so nothing is embedded
//! and fixed-width columns stay aligned. Text is encoded as Windows-1252 (WinAnsiEncoding).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

const A4_WIDTH: f32 = 595.0;
const A4_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 40.0;
const FONT_SIZE: f32 = 8.0;
const LEADING: f32 = 11.0;

/// Lines that fit on one page between the margins.
fn lines_per_page() -> usize {
    // Both operands are small positive constants.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lines = ((A4_HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    lines
}

/// A PDF document showing `text`, line by line, over as many pages as it needs.
pub(crate) fn text_document(text: &str) -> Vec<u8> {
    let lines: Vec<&str> = text.lines().collect();
    let pages: Vec<&[&str]> = if lines.is_empty() {
        vec![&[]]
    } else {
        lines.chunks(lines_per_page()).collect()
    };

    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let font_id = Ref::new(3);
    let font_name = Name(b"F1");
    // Each page takes two ids: the page and its content stream.
    let page_ids: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|index| {
            let base = i32::try_from(4 + 2 * index).unwrap_or(i32::MAX - 1);
            (Ref::new(base), Ref::new(base + 1))
        })
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    pdf.type1_font(font_id)
        .base_font(Name(b"Courier"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));

    for (lines, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, A4_WIDTH, A4_HEIGHT));
        page.parent(tree_id);
        page.contents(*content_id);
        page.resources().fonts().pair(font_name, font_id);
        page.finish();

        let mut content = Content::new();
        content.begin_text();
        content.set_font(font_name, FONT_SIZE);
        content.set_leading(LEADING);
        content.next_line(MARGIN, A4_HEIGHT - MARGIN);
        for line in *lines {
            content.show(Str(&win_ansi(line)));
            content.next_line_using_leading();
        }
        content.end_text();
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

/// `text` in Windows-1252; characters it cannot encode become `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => u8::try_from(c).unwrap_or(b'?'),
            '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}
