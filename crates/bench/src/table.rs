//! The report's tables of measurements: a label column, then one column per
//! figure of a [`Measured`], each right-aligned to its width with its own
//! number of decimals. A table is declared as its columns; the heading and every
//! row are printed from that one declaration, so they cannot fall out of line.

use crate::load::Measured;

/// One figure of a measurement, as a column.
#[derive(Clone, Copy)]
pub struct Column {
    heading: &'static str,
    width: usize,
    decimals: usize,
    figure: fn(&Measured) -> f64,
}

impl Column {
    pub const fn new(
        heading: &'static str,
        width: usize,
        decimals: usize,
        figure: fn(&Measured) -> f64,
    ) -> Self {
        Self {
            heading,
            width,
            decimals,
            figure,
        }
    }
}

/// Where a table's label column stands: names to the left, numbers (a client
/// count) to the right.
#[derive(Clone, Copy)]
pub enum Label {
    Left(usize),
    Right(usize),
}

pub struct Table {
    pub label: Label,
    pub columns: Vec<Column>,
}

impl Table {
    pub fn print_heading(&self, label: &str) {
        println!("{}", self.heading(label));
    }

    pub fn print_row(&self, label: &str, m: &Measured) {
        println!("{}", self.row(label, m));
    }

    fn heading(&self, label: &str) -> String {
        let cells = self
            .columns
            .iter()
            .map(|c| format!(" {:>1$}", c.heading, c.width));
        self.label(label) + &cells.collect::<String>()
    }

    fn row(&self, label: &str, m: &Measured) -> String {
        let cells = self.columns.iter().map(|c| {
            let (width, decimals) = (c.width, c.decimals);
            format!(" {:>width$.decimals$}", (c.figure)(m))
        });
        self.label(label) + &cells.collect::<String>()
    }

    fn label(&self, text: &str) -> String {
        match self.label {
            Label::Left(width) => format!("{text:<width$}"),
            Label::Right(width) => format!("{text:>width$}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(label: Label) -> Table {
        Table {
            label,
            columns: vec![
                Column::new("count", 7, 0, |m| m.ops as f64),
                Column::new("per op", 8, 2, |m| m.ops as f64 / 3.0),
            ],
        }
    }

    #[test]
    fn every_cell_stands_right_aligned_under_its_heading() {
        let m = Measured {
            ops: 10,
            ..Measured::default()
        };
        let table = table(Label::Left(12));
        assert_eq!(
            table.heading("measurement"),
            "measurement    count   per op"
        );
        assert_eq!(table.row("sign-ins", &m), "sign-ins          10     3.33");
    }

    #[test]
    fn a_label_of_numbers_stands_to_the_right() {
        assert_eq!(
            table(Label::Right(8)).heading("clients"),
            " clients   count   per op"
        );
    }
}
