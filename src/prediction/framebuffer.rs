//! The emulator's framebuffer seen through prediction's screen view.

use crate::terminal::{Cell, Color, Framebuffer, Renditions, Underline};

use super::screen::{PredictCell, PredictScreen};

impl PredictCell for Cell {
    type Renditions = Renditions;

    fn blank() -> Self {
        Cell::blank(Color::Default)
    }

    fn contents(&self) -> &str {
        Cell::contents(self)
    }

    fn set_char(&mut self, ch: char) {
        let mut buf = [0u8; 4];
        self.set_contents(ch.encode_utf8(&mut buf));
        self.wide = false;
        self.fallback = false;
    }

    fn clear_contents(&mut self) {
        self.set_contents("");
        self.wide = false;
        self.fallback = false;
    }

    fn renditions(&self) -> &Renditions {
        &self.renditions
    }

    fn set_renditions(&mut self, r: Renditions) {
        self.renditions = r;
    }

    fn set_underlined(&mut self) {
        self.renditions.underline = Underline::Single;
    }

    fn is_blank(&self) -> bool {
        Cell::is_blank(self)
    }
}

impl PredictScreen for Framebuffer {
    type Cell = Cell;

    fn height(&self) -> usize {
        Framebuffer::height(self)
    }

    fn width(&self) -> usize {
        Framebuffer::width(self)
    }

    fn cursor(&self) -> (usize, usize) {
        Framebuffer::cursor(self)
    }

    fn cell(&self, row: usize, col: usize) -> Option<&Cell> {
        Framebuffer::cell(self, row, col)
    }

    fn cell_mut(&mut self, row: usize, col: usize) -> Option<&mut Cell> {
        Framebuffer::cell_mut(self, row, col)
    }

    fn set_cursor(&mut self, row: usize, col: usize) {
        if row < Framebuffer::height(self) && col < Framebuffer::width(self) {
            Framebuffer::set_cursor(self, row, col);
        }
    }

    fn current_renditions(&self) -> Renditions {
        self.ds.renditions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prediction::{DisplayPreference, Policy, PredictionConfig, PredictionEngine};
    use crate::terminal::Emulator;
    use std::time::Instant;

    #[test]
    fn the_engine_predicts_over_the_real_emulator() {
        let mut server = Emulator::new(20, 5);
        server.feed(b"$ ");
        let mut e: PredictionEngine<Cell> = PredictionEngine::new(PredictionConfig {
            display: DisplayPreference::Always,
            overwrite: false,
            policy: Policy::MoshCompatible,
        });
        let now = Instant::now();
        e.set_send_interval(125);
        e.cull(server.framebuffer(), now);
        e.set_frame_sent(0);
        e.new_user_input(b"l", server.framebuffer(), now);
        server.feed(b"l");
        e.set_echo_ack(1);
        e.cull(server.framebuffer(), now);
        e.set_frame_sent(1);
        e.new_user_input(b"s", server.framebuffer(), now);
        let mut shown = server.framebuffer().clone();
        e.apply(&mut shown);
        assert_eq!(shown.row_text(0).trim_end(), "$ ls");
        assert_eq!(shown.cursor(), (0, 4));
        let s = shown.cell(0, 3).map(|c| c.renditions.underline);
        assert_eq!(
            s,
            Some(Underline::Single),
            "flagged at 125 ms send interval"
        );
        assert_eq!(
            server.framebuffer().row_text(0).trim_end(),
            "$ l",
            "server copy untouched"
        );
    }

    #[test]
    fn wide_and_combining_cells_compare_by_contents() {
        let mut a = <Cell as PredictCell>::blank();
        a.set_char('x');
        let b = Cell::with_text("x", Renditions::default());
        assert!(a.contents_match(&b));
        let nbsp = Cell::with_text("\u{a0}", Renditions::default());
        assert!(PredictCell::is_blank(&nbsp));
    }
}
