//! Legends: a row of swatches and labels laid out left to right, wrapping
//! into further rows of [`LEGEND_ROW`] pixels when the plot is too narrow.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{font, DrawResult};

/// Height of one legend row, in pixels.
pub(super) const LEGEND_ROW: i32 = 24;

const SWATCH_W: i32 = 28;

/// How an item's colour is shown.
#[derive(Clone, Copy)]
pub(super) enum Swatch {
    Line,
    Dashed,
    Fill,
    FillLine,
    LineMarker,
}

pub(super) struct LegendItem {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

impl LegendItem {
    pub(super) fn new(label: impl Into<String>, color: RGBColor, swatch: Swatch) -> LegendItem {
        LegendItem { label: label.into(), color, swatch }
    }
}

/// Positions `(x, row)` of the legend items laid out left to right from
/// `x0`, wrapping before `x1`.
fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
    x0: i32,
    x1: i32,
) -> Result<Vec<(i32, i32)>, DrawingAreaErrorKind<DB::ErrorType>> {
    let style = font(14);
    let mut out = Vec::with_capacity(items.len());
    let (mut x, mut row) = (x0, 0);
    for it in items {
        let (w, _) = area.estimate_text_size(&it.label, &style)?;
        let width = SWATCH_W + 6 + w as i32;
        if x > x0 && x + width > x1 {
            x = x0;
            row += 1;
        }
        out.push((x, row));
        x += width + 24;
    }
    Ok(out)
}

/// How many rows the legend takes between `x0` and `x1`.
pub(super) fn legend_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
    x0: i32,
    x1: i32,
) -> Result<i32, DrawingAreaErrorKind<DB::ErrorType>> {
    Ok(legend_layout(area, items, x0, x1)?.last().map_or(0, |&(_, r)| r + 1))
}

/// Draws the legend in rows of [`LEGEND_ROW`] pixels starting at `y0`.
pub(super) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
    x0: i32,
    x1: i32,
    y0: i32,
) -> DrawResult<DB> {
    let layout = legend_layout(area, items, x0, x1)?;
    let style = font(14).pos(Pos::new(HPos::Left, VPos::Center));
    for (it, &(x, row)) in items.iter().zip(&layout) {
        let yc = y0 + row * LEGEND_ROW + LEGEND_ROW / 2;
        draw_swatch(area, it.swatch, it.color, x, yc)?;
        area.draw(&Text::new(it.label.clone(), (x + SWATCH_W + 6, yc), style.clone()))?;
    }
    Ok(())
}

/// One swatch, [`SWATCH_W`] wide, from `x`, centred on `yc`.
fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    c: RGBColor,
    x: i32,
    yc: i32,
) -> DrawResult<DB> {
    match swatch {
        Swatch::Line => area.draw(&PathElement::new(vec![(x, yc), (x + SWATCH_W, yc)], c.stroke_width(3))),
        Swatch::Dashed => {
            area.draw(&DashedPathElement::new(vec![(x, yc), (x + SWATCH_W, yc)], 6, 4, c.stroke_width(2)))
        }
        Swatch::Fill => area.draw(&Rectangle::new([(x, yc - 7), (x + SWATCH_W, yc + 7)], c.filled())),
        Swatch::FillLine => {
            area.draw(&Rectangle::new([(x, yc - 7), (x + SWATCH_W, yc + 7)], c.mix(0.3).filled()))?;
            area.draw(&PathElement::new(vec![(x, yc - 7), (x + SWATCH_W, yc - 7)], c.stroke_width(2)))
        }
        Swatch::LineMarker => {
            area.draw(&Rectangle::new([(x, yc - 6), (x + SWATCH_W, yc + 6)], c.mix(0.18).filled()))?;
            area.draw(&PathElement::new(vec![(x, yc), (x + SWATCH_W, yc)], c.stroke_width(2)))?;
            area.draw(&Circle::new((x + SWATCH_W / 2, yc), 4, c.filled()))
        }
    }
}
