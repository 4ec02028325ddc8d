package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"leitai/voting"
)

// TestPresentationInReport: the themes, presenters and leader's comments
// are in the report's rows and, as the last columns, in the ranking of the
// workbook and the CSV, on the row of their contestant; without any, the
// ranking has no such columns.
func TestPresentationInReport(t *testing.T) {
	t.Parallel()
	ev, bs := fixture(t)
	ev.Contestants[0].Theme = "扬优势 补短板 推进各项经济指标争先创优" // c1
	ev.Contestants[0].Comment = "不讲困难，只找方法。"
	ev.Contestants[3].Theme = "奋力夺取疫情防控和经济发展“双胜利”" // c4
	ev.Contestants[3].Presenter = "王五"
	ev.Contestants[4].Comment = "=HYPERLINK(\"http://x\")" // c5: a comment that a spreadsheet would run
	r := Build(ev, endedStage(), bs, time.Now(), shanghai)

	byID := map[string]Row{}
	for _, row := range r.Rows {
		byID[row.Contestant] = row
	}
	if row := byID["c1"]; row.Theme != ev.Contestants[0].Theme || row.Comment != "不讲困难，只找方法。" || row.Presenter != "" {
		t.Errorf("c1's row: %+v", row)
	}
	if row := byID["c4"]; row.Presenter != "王五" || row.Comment != "" {
		t.Errorf("c4's row: %+v", row)
	}
	// The published report keeps them: they are the write-up of the day.
	if row := r.Public().Rows[0]; row.Contestant != "c4" || row.Theme == "" {
		t.Errorf("public first row: %+v", row)
	}

	tab := r.RankingTable()
	n := len(tab.Columns)
	titles := make([]string, n)
	for i, c := range tab.Columns {
		titles[i] = c.Title
	}
	if got := titles[n-3:]; !slices.Equal(got, []string{"汇报主题", "汇报人", "区领导点评"}) {
		t.Fatalf("last columns %q", got)
	}
	if !tab.Columns[n-1].Wrap || !tab.Columns[n-3].Wrap {
		t.Errorf("theme and comment columns do not wrap")
	}

	// CSV: each text on its contestant's row; the formula defused.
	var buf bytes.Buffer
	if err := tab.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, c := range ev.Contestants {
		names[c.Name] = c.ID
	}
	for _, rec := range recs[1:] {
		id := names[rec[2]]
		if id == "" {
			id = names[rec[2][1:]] // a defused name
		}
		row := byID[id]
		comment := row.Comment
		if id == "c5" {
			comment = "'" + comment
		}
		if got := rec[n-3:]; got[0] != row.Theme || got[1] != row.Presenter || got[2] != comment {
			t.Errorf("CSV row of %s: %q, want %q, %q, %q", id, got, row.Theme, row.Presenter, comment)
		}
	}

	// The workbook: the same texts, wrapped.
	buf.Reset()
	if err := r.WriteXLSX(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkWorkbook(t, f, ev, voting.Tally(ev, bs), len(bs))
	rows, err := f.GetRows("排名")
	if err != nil {
		t.Fatal(err)
	}
	header := rows[2]
	col := slices.Index(header, "区领导点评")
	if col < 0 {
		t.Fatalf("no comment column in %q", header)
	}
	found := false
	for i, row := range rows[3:] {
		if len(row) > 2 && row[slices.Index(header, "参赛单位")] == "区发改经信局" {
			found = true
			if row[col] != "不讲困难，只找方法。" {
				t.Errorf("the workbook's comment for 区发改经信局: %q", row[col])
			}
			ref, _ := excelize.CoordinatesToCellName(col+1, 4+i)
			style, _ := f.GetCellStyle("排名", ref)
			if s, err := f.GetStyle(style); err != nil || s.Alignment == nil || !s.Alignment.WrapText {
				t.Errorf("the comment cell %s does not wrap: %+v %v", ref, s, err)
			}
		}
	}
	if !found {
		t.Errorf("no row for 区发改经信局 in the workbook")
	}

	// Without any presentation text, no empty columns.
	plain, _ := fixture(t)
	if got := Build(plain, endedStage(), bs, time.Now(), shanghai).RankingTable(); len(got.Columns) != n-3 {
		t.Errorf("ranking without themes has %d columns, want %d", len(got.Columns), n-3)
	}
}
