package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// BOM starts every CSV file, so that Excel reads the file as UTF-8 and
// shows Chinese text instead of mojibake.
const BOM = "\ufeff"

// WriteCSV writes the table as CSV: a byte-order mark, a header line, then
// one line per row (CRLF line ends, as Excel writes them). Numbers are
// written with the decimals of their column (the values are rounded as
// docs/scoring.md says before they get here), times as 2006-01-02 15:04:05.
// Every text cell, the header's included, is defused.
func (t Table) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(BOM); err != nil {
		return fmt.Errorf("report: write %s: %w", t.Slug, err)
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	line := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		line[i] = defuse(c.Title) // titles carry panel and criterion names
	}
	if err := cw.Write(line); err != nil {
		return fmt.Errorf("report: write %s: %w", t.Slug, err)
	}
	for _, row := range t.Rows {
		for i, cell := range row {
			line[i] = csvCell(cell, t.Columns[i].Decimals)
		}
		if err := cw.Write(line); err != nil {
			return fmt.Errorf("report: write %s: %w", t.Slug, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: write %s: %w", t.Slug, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: write %s: %w", t.Slug, err)
	}
	return nil
}

func csvCell(v any, decimals int) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', decimals, 64)
	case time.Time:
		return v.Format("2006-01-02 15:04:05")
	case string:
		return defuse(v)
	}
	return fmt.Sprint(v)
}

// defuse keeps a spreadsheet from running text as a formula (CSV
// injection): text that starts with = + - @ gets a leading apostrophe,
// which Excel hides.
func defuse(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}
