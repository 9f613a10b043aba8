//! SVG charts of the streaming and request/response tables (plotters' SVG backend; the
//! text is left to the viewer's fonts).

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

use crate::report::{PingRow, StreamRow};
use crate::sock::Transport;
use crate::stats::{fmt_rate, fmt_us, label};
use crate::stream::IMPLS;

type Result = std::result::Result<(), Box<dyn Error>>;

/// One colour per implementation of the streaming part, in the order of [`IMPLS`].
const COLOURS: [RGBColor; IMPLS.len()] = [
    RGBColor(0x55, 0x55, 0x55),
    RGBColor(0x99, 0x99, 0x99),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0xbb, 0xbb, 0xee),
];

/// Frames/s by frame size, one line per implementation, a panel per transport.
pub fn stream(rows: &[StreamRow], path: &Path) -> Result {
    let root = SVGBackend::new(path, (1100, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    for (area, t) in panels.iter().zip([Transport::Tcp, Transport::Unix]) {
        let rows: Vec<&StreamRow> = rows.iter().filter(|r| r.transport == t).collect();
        if rows.is_empty() {
            continue;
        }
        let rates = rows.iter().flat_map(|r| r.rate).filter(|r| r.is_finite());
        let (lo, hi) = rates.fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(r), hi.max(r)));
        // The sizes are evenly spaced on the x axis, one tick each.
        let size_label = |x: &f64| match rows.get(x.round() as usize) {
            Some(r) if x.fract() == 0.0 => label(r.size),
            _ => String::new(),
        };
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("One-way streaming over {}", t.name()),
                ("sans-serif", 20),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                -0.3..rows.len() as f64 - 0.7,
                (lo / 2.0..hi * 2.0).log_scale(),
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(rows.len())
            .y_labels(12)
            .x_desc("frame size")
            .y_desc("frames/s")
            .x_label_formatter(&size_label)
            .y_label_formatter(&|y| fmt_rate(*y))
            .draw()?;
        for (i, imp) in IMPLS.iter().enumerate() {
            let colour = COLOURS[i];
            let points: Vec<(f64, f64)> = rows
                .iter()
                .enumerate()
                .map(|(x, r)| (x as f64, r.rate[i]))
                .filter(|(_, rate)| rate.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(2),
                ))?
                .label(imp.title())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// Round-trip p50 (bar) and p99 (tick) per implementation, grouped by frame size and
/// `TCP_NODELAY`, on a logarithmic time axis.
pub fn pingpong(rows: &[PingRow], path: &Path) -> Result {
    let mut groups: Vec<(usize, bool)> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if !groups.contains(&(r.size, r.nodelay)) {
            groups.push((r.size, r.nodelay));
        }
        if !names.contains(&r.name) {
            names.push(r.name);
        }
    }
    let hi = rows.iter().map(|r| r.p99_us).fold(1.0, f64::max);
    let lo = rows.iter().map(|r| r.p50_us).fold(hi, f64::min);
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Request/response over TCP: round trip p50 (bar) and p99 (tick)",
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..groups.len() as f64, (lo / 2.0..hi * 2.0).log_scale())?;
    let group_label = |x: &f64| {
        let g = x.floor() as usize;
        match groups.get(g) {
            Some(&(size, nodelay)) if x.fract() == 0.5 => format!(
                "{}, TCP_NODELAY {}",
                label(size),
                if nodelay { "on" } else { "off" }
            ),
            _ => String::new(),
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * groups.len() + 1)
        .x_label_formatter(&group_label)
        .y_desc("round trip")
        .y_label_formatter(&|y| fmt_us(*y))
        .draw()?;
    let width = 0.8 / names.len() as f64;
    for (i, name) in names.iter().enumerate() {
        let colour = COLOURS[[0, 2, 1][i % 3]];
        let bars = rows.iter().filter(|r| r.name == *name).map(|r| {
            let g = groups
                .iter()
                .position(|&g| g == (r.size, r.nodelay))
                .unwrap_or(0) as f64;
            let x0 = g + 0.1 + width * i as f64;
            (x0, x0 + width * 0.9, r.p50_us, r.p99_us)
        });
        let bars: Vec<_> = bars.collect();
        chart
            .draw_series(bars.iter().map(|&(x0, x1, p50, _)| {
                Rectangle::new([(x0, lo / 2.0), (x1, p50)], colour.filled())
            }))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
        chart.draw_series(bars.iter().map(|&(x0, x1, _, p99)| {
            PathElement::new([(x0, p99), (x1, p99)], BLACK.stroke_width(2))
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
