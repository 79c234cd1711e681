//! Aligned text tables: a `#`-prefixed header row, columns two spaces apart, numbers right-aligned.

/// The text of a cell; missing cells are blank.
fn cell(row: &[String], column: usize) -> &str {
    row.get(column).map_or("", String::as_str)
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table being built row by row.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers (written with a leading `#`, as mqadmin does).
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            headers: columns
                .iter()
                .map(|(name, align)| (format!("#{name}"), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The text, one line per row, each ending with `\n`, no trailing spaces.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = self
            .headers
            .iter()
            .enumerate()
            .map(|(column, (header, _))| {
                self.rows
                    .iter()
                    .map(|row| cell(row, column).chars().count())
                    .chain(std::iter::once(header.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let header_cells: Vec<String> = self.headers.iter().map(|(h, _)| h.clone()).collect();
        for row in std::iter::once(&header_cells).chain(&self.rows) {
            let mut line = String::new();
            for (column, (_, align)) in self.headers.iter().enumerate() {
                if column > 0 {
                    line.push_str("  ");
                }
                let text = cell(row, column);
                let pad = widths[column].saturating_sub(text.chars().count());
                match align {
                    Align::Left => {
                        line.push_str(text);
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(text);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_numbers_align_right() {
        let mut table = Table::new(&[("Name", Align::Left), ("Count", Align::Right)]);
        table.row(vec!["broker-a".into(), "7".into()]);
        table.row(vec!["b".into(), "123456".into()]);
        assert_eq!(
            table.render(),
            "#Name     #Count\n\
             broker-a       7\n\
             b         123456\n"
        );
    }

    #[test]
    fn short_rows_are_padded_with_blanks_and_lines_have_no_trailing_spaces() {
        let mut table = Table::new(&[("A", Align::Left), ("B", Align::Left)]);
        table.row(vec!["x".into()]);
        assert_eq!(table.render(), "#A  #B\nx\n");
    }

    #[test]
    fn an_empty_table_is_just_its_header() {
        let table = Table::new(&[("Topic", Align::Left)]);
        assert_eq!(table.render(), "#Topic\n");
    }
}
