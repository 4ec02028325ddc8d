package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// WriteXLSX writes the report as an Excel workbook with the sheets 排名,
// 明细 and 规则 (and 累计 with the season): numbers as numbers (shown with their column's decimals),
// times as times, a bold header row that stays in view, column widths, and
// A4 page settings so that 排名 prints as it is.
func (r *Report) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return fmt.Errorf("report: workbook styles: %w", err)
	}
	if err := r.writeRanking(f, st); err != nil {
		return fmt.Errorf("report: sheet 排名: %w", err)
	}
	if err := writeStreamed(f, st, r.BallotsTable()); err != nil {
		return fmt.Errorf("report: sheet 明细: %w", err)
	}
	if err := writeRules(f, st, r.RulesTable()); err != nil {
		return fmt.Errorf("report: sheet 规则: %w", err)
	}
	if r.Season != nil {
		if err := writeSeasonSheet(f, st, r.Season, false); err != nil {
			return fmt.Errorf("report: sheet 累计: %w", err)
		}
	}
	f.SetActiveSheet(0)
	created := time.UnixMilli(r.GeneratedAt).UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: r.Title + " 成绩", Subject: "成绩排名", Creator: "leitai 擂台", Created: created, Modified: created, Language: "zh-CN",
	}); err != nil {
		return fmt.Errorf("report: workbook properties: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("report: write the workbook: %w", err)
	}
	return nil
}

// styles are the cell styles of the workbook; numbers by decimals.
type styles struct {
	title, subtitle, header, text, wrap, integer, time int
	number                                             [5]int
}

func newStyles(f *excelize.File) (*styles, error) {
	border := []excelize.Border{
		{Type: "left", Color: "B7BDC7", Style: 1}, {Type: "right", Color: "B7BDC7", Style: 1},
		{Type: "top", Color: "B7BDC7", Style: 1}, {Type: "bottom", Color: "B7BDC7", Style: 1},
	}
	mid := &excelize.Alignment{Vertical: "center"}
	var s styles
	var err error
	mk := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	s.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	s.subtitle = mk(&excelize.Style{Font: &excelize.Font{Size: 10, Color: "5D6673"}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	s.header = mk(&excelize.Style{
		Font: &excelize.Font{Bold: true}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E9ECF1"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true},
	})
	s.text = mk(&excelize.Style{Border: border, Alignment: mid})
	s.wrap = mk(&excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	s.integer = mk(&excelize.Style{Border: border, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}, NumFmt: 1})
	timeFmt := "yyyy-mm-dd hh:mm:ss"
	s.time = mk(&excelize.Style{Border: border, Alignment: mid, CustomNumFmt: &timeFmt})
	for d := range s.number {
		format := "0"
		if d > 0 {
			format += "." + strings.Repeat("0", d)
		}
		s.number[d] = mk(&excelize.Style{Border: border, Alignment: mid, CustomNumFmt: &format})
	}
	return &s, err
}

// cellStyle picks the style of a value in a column.
func (s *styles) cellStyle(v any, c Column) int {
	switch v.(type) {
	case int:
		return s.integer
	case float64:
		return s.number[min(max(c.Decimals, 0), 4)]
	case time.Time:
		return s.time
	}
	if c.Wrap {
		return s.wrap
	}
	return s.text
}

// writeRanking fills the first sheet: a title, a line saying what the
// results are, the header (kept in view and repeated on every printed
// page), one row per contestant.
func (r *Report) writeRanking(f *excelize.File, st *styles) error {
	t := r.RankingTable()
	const sheet = "排名"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	last, err := excelize.ColumnNumberToName(len(t.Columns))
	if err != nil {
		return err
	}
	status := "临时结果（活动尚未结束）"
	if r.Final {
		status = "最终结果 · 结束时间 " + stamp(r.ClosedAt, r.Location())
	}
	sub := fmt.Sprintf("成绩排名 · %s · 有效票 %d 张 · 投票人 %d 位", status, r.Ballots, r.Voters)
	if err := f.SetCellStr(sheet, "A1", r.Title); err != nil {
		return err
	}
	if err := f.SetCellStr(sheet, "A2", sub); err != nil {
		return err
	}
	for _, row := range []int{1, 2} {
		a, b := fmt.Sprintf("A%d", row), fmt.Sprintf("%s%d", last, row)
		if err := f.MergeCell(sheet, a, b); err != nil {
			return err
		}
		style := st.title
		if row == 2 {
			style = st.subtitle
		}
		if err := f.SetCellStyle(sheet, a, b, style); err != nil {
			return err
		}
	}
	if err := f.SetRowHeight(sheet, 1, 30); err != nil {
		return err
	}
	const headerRow = 3
	if err := writeTable(f, st, sheet, t, headerRow); err != nil {
		return err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: fmt.Sprintf("A%d", headerRow+1), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if len(t.Rows) > 0 {
		if err := f.AutoFilter(sheet, fmt.Sprintf("A%d:%s%d", headerRow, last, headerRow+len(t.Rows)), nil); err != nil {
			return err
		}
	}
	if err := f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$%d:$%d", sheet, headerRow, headerRow), Scope: sheet}); err != nil {
		return err
	}
	return printA4(f, sheet, "landscape")
}

// writeRules fills 规则: two columns, the second wrapped.
func writeRules(f *excelize.File, st *styles, t Table) error {
	if _, err := f.NewSheet(t.Name); err != nil {
		return err
	}
	if err := writeTable(f, st, t.Name, t, 1); err != nil {
		return err
	}
	if err := f.SetPanes(t.Name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return printA4(f, t.Name, "portrait")
}

// writeTable writes the header at headerRow and the rows below it, with
// column widths and styles.
func writeTable(f *excelize.File, st *styles, sheet string, t Table, headerRow int) error {
	for i, c := range t.Columns {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := f.SetColWidth(sheet, col, col, c.Width); err != nil {
			return err
		}
		cell := fmt.Sprintf("%s%d", col, headerRow)
		if err := f.SetCellStr(sheet, cell, c.Title); err != nil {
			return err
		}
		if err := f.SetCellStyle(sheet, cell, cell, st.header); err != nil {
			return err
		}
	}
	for i, row := range t.Rows {
		n := headerRow + 1 + i
		for j, v := range row {
			cell, err := excelize.CoordinatesToCellName(j+1, n)
			if err != nil {
				return err
			}
			if v != nil {
				if err := f.SetCellValue(sheet, cell, v); err != nil {
					return err
				}
			}
			if err := f.SetCellStyle(sheet, cell, cell, st.cellStyle(v, t.Columns[j])); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeStreamed writes a table that may be long (every ballot) through a
// stream writer, which keeps memory flat.
func writeStreamed(f *excelize.File, st *styles, t Table) error {
	if _, err := f.NewSheet(t.Name); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(t.Name)
	if err != nil {
		return err
	}
	for i, c := range t.Columns {
		if err := sw.SetColWidth(i+1, i+1, c.Width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = excelize.Cell{StyleID: st.header, Value: c.Title}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	cells := make([]any, len(t.Columns))
	for i, row := range t.Rows {
		for j, v := range row {
			cells[j] = excelize.Cell{StyleID: st.cellStyle(v, t.Columns[j]), Value: v}
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", i+2), cells); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// printA4 sets the sheet to print on A4, as wide as one page, with page
// numbers in the footer.
func printA4(f *excelize.File, sheet, orientation string) error {
	a4, one, auto, fit := 9, 1, 0, true
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: &a4, Orientation: &orientation, FitToWidth: &one, FitToHeight: &auto}); err != nil {
		return err
	}
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	return f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddFooter: "&C第 &P 页，共 &N 页"})
}
