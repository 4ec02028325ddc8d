package report

import (
	"slices"
	"strings"
	"time"

	"leitai/voting"
)

// A Table is one sheet of the workbook and one CSV file: the ranking (排名),
// the ballots (明细) or the rules (规则).
type Table struct {
	Name    string // the sheet name: 排名, 明细, 规则
	Slug    string // the CSV name: ranking, ballots, rules
	Columns []Column
	// Rows hold, per column: string, int, float64, time.Time (in the
	// report's time zone) or nil for an empty cell.
	Rows [][]any
}

// A Column is one column of a table.
type Column struct {
	Title string
	Width float64 // in characters, for the workbook
	// Decimals is how many decimals a float64 in this column shows.
	Decimals int
	Wrap     bool // long text: wrap it in the workbook
}

// The tables, by slug.
const (
	TableRanking = "ranking"
	TableBallots = "ballots"
	TableRules   = "rules"
)

// Tables returns the three tables: 排名, 明细, 规则, and 累计 when the
// report has the season.
func (r *Report) Tables() []Table {
	t := []Table{r.RankingTable(), r.BallotsTable(), r.RulesTable()}
	if r.Season != nil {
		t = append(t, SeasonTable(r.Season))
	}
	return t
}

// Table returns the table with the given slug.
func (r *Report) Table(slug string) (Table, bool) {
	switch slug {
	case TableRanking:
		return r.RankingTable(), true
	case TableBallots:
		return r.BallotsTable(), true
	case TableRules:
		return r.RulesTable(), true
	case TableSeason:
		if r.Season != nil {
			return SeasonTable(r.Season), true
		}
	}
	return Table{}, false
}

// averageDecimals is how many decimals a panel average has in the report
// and its exports: two more than the final score, so that a reader sees why
// two finals differ or tie, between 2 and 4 (the precision of a ballot).
func averageDecimals(final int) int { return min(4, max(2, final+2)) }

// ballotDecimals is how many decimals a ballot's score shows, which is
// exact: the scale's without criteria; with criteria, a weighted mean may
// need all four.
func (r *Report) ballotDecimals() int {
	if len(r.Criteria) > 0 {
		return 4
	}
	return r.Scale
}

// RankingTable is 排名: one row per contestant in the order of the
// standings.
func (r *Report) RankingTable() Table {
	grouped := len(r.Groups) > 0
	cols := []Column{{Title: "名次", Width: 7}}
	if grouped {
		cols = append(cols, Column{Title: "组内名次", Width: 9})
	}
	cols = append(cols, Column{Title: "参赛单位", Width: 28})
	if grouped {
		cols = append(cols, Column{Title: "分组", Width: 16})
	}
	cols = append(cols,
		Column{Title: "出场顺序", Width: 9},
		Column{Title: "最终得分", Width: 11, Decimals: r.Decimals},
		Column{Title: "有效票数", Width: 9},
	)
	avg := r.AverageDecimals
	for _, p := range r.Panels {
		cols = append(cols,
			Column{Title: p.Name + p.ResultName(), Width: float64(max(12, 2*len([]rune(p.Name))+6)), Decimals: avg},
			Column{Title: p.Name + "票数", Width: float64(max(9, 2*len([]rune(p.Name))+4))},
		)
		if p.Trim > 0 {
			cols = append(cols,
				// The dropped ballots' exact scores, as JSON highest/lowest.
				Column{Title: p.Name + "去掉的最高分", Width: float64(max(12, 2*len([]rune(p.Name))+10)), Decimals: r.ballotDecimals()},
				Column{Title: p.Name + "去掉的最低分", Width: float64(max(12, 2*len([]rune(p.Name))+10)), Decimals: r.ballotDecimals()},
			)
		}
	}
	t := Table{Name: "排名", Slug: TableRanking, Columns: cols}
	for _, row := range r.Rows {
		cells := []any{rankCell(row.Rank)}
		if grouped {
			cells = append(cells, rankCell(row.GroupRank))
		}
		cells = append(cells, row.Name)
		if grouped {
			cells = append(cells, nilIfEmpty(row.Group))
		}
		var final any
		if row.Ballots > 0 {
			final = row.Final
		}
		cells = append(cells, row.Order, final, row.Ballots)
		for i, pr := range row.Panels {
			var average any
			if pr.Count > 0 {
				average = pr.Average
			}
			cells = append(cells, average, pr.Count)
			if r.Panels[i].Trim > 0 {
				cells = append(cells, scoresCell(pr.Highest), scoresCell(pr.Lowest))
			}
		}
		t.Rows = append(t.Rows, cells)
	}
	r.addPresentation(&t)
	return t
}

// addPresentation adds to the ranking a column for each of theme,
// presenter and the leader's comment that some contestant has, last, so
// that the numbers keep their places.
func (r *Report) addPresentation(t *Table) {
	cols := []struct {
		col  Column
		text func(Row) string
	}{
		{Column{Title: "汇报主题", Width: 36, Wrap: true}, func(row Row) string { return row.Theme }},
		{Column{Title: "汇报人", Width: 10}, func(row Row) string { return row.Presenter }},
		{Column{Title: "区领导点评", Width: 60, Wrap: true}, func(row Row) string { return row.Comment }},
	}
	for _, c := range cols {
		if !slices.ContainsFunc(r.Rows, func(row Row) bool { return c.text(row) != "" }) {
			continue
		}
		t.Columns = append(t.Columns, c.col)
		for i, row := range r.Rows {
			t.Rows[i] = append(t.Rows[i], nilIfEmpty(c.text(row)))
		}
	}
}

// BallotsTable is 明细: every live ballot, voters anonymised.
func (r *Report) BallotsTable() Table {
	cols := []Column{
		{Title: "投票人（匿名编号）", Width: 18},
		{Title: "参赛单位", Width: 28},
		{Title: "评审组", Width: 12},
	}
	for _, c := range r.Criteria {
		cols = append(cols, Column{Title: c.Name, Width: float64(max(8, 2*len([]rune(c.Name))+2)), Decimals: r.Scale})
	}
	cols = append(cols,
		Column{Title: "得分", Width: 9, Decimals: r.ballotDecimals()},
		Column{Title: "投票时间", Width: 20},
	)
	t := Table{Name: "明细", Slug: TableBallots, Columns: cols}
	loc := r.Location()
	for _, b := range r.Detail {
		cells := []any{b.Voter, b.Name, b.PanelName}
		for _, s := range b.Scores {
			cells = append(cells, s)
		}
		// To the second, cut (not rounded): the workbook would otherwise
		// show 14:00:01.6 as 14:00:02 and the CSV as 14:00:01.
		cells = append(cells, b.Score, time.UnixMilli(b.At).In(loc).Truncate(time.Second))
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// RulesTable is 规则: the rules and the formula in words.
func (r *Report) RulesTable() Table {
	t := Table{Name: "规则", Slug: TableRules, Columns: []Column{
		{Title: "项目", Width: 20},
		{Title: "说明", Width: 90, Wrap: true},
	}}
	for _, ru := range r.Rules {
		t.Rows = append(t.Rows, []any{ru.Item, ru.Text})
	}
	return t
}

func rankCell(rank int) any {
	if rank == 0 {
		return nil
	}
	return rank
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scoresCell is one dropped score as a number, several as text ("99、98"),
// none as an empty cell.
func scoresCell(scores []float64) any {
	switch len(scores) {
	case 0:
		return nil
	case 1:
		return scores[0]
	}
	parts := make([]string, len(scores))
	for i, s := range scores {
		parts[i] = num(s)
	}
	return strings.Join(parts, "、")
}

// scoreDecimals is how many decimals the scale needs (step 0.5 → 1).
func scoreDecimals(ru voting.Rules) int {
	for d := 0; d < 4; d++ {
		p := float64(pow10(d))
		if isWhole(ru.Step*p) && isWhole(ru.Min*p) {
			return d
		}
	}
	return 4
}

func pow10(d int) int {
	p := 1
	for range d {
		p *= 10
	}
	return p
}

func isWhole(x float64) bool {
	r := x - float64(int64(x+0.5))
	return r < 1e-9 && r > -1e-9
}
