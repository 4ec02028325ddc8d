package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"leitai/voting"
)

// TableSeason is the slug of the season table (累计).
const TableSeason = "season"

// SetSeason adds the season table (年度累计排名) of the event's series, up
// to the event's round, to the report: the 累计 sheet, the season CSV and
// the JSON's season.
func (r *Report) SetSeason(s *voting.Season) { r.Season = s }

// SeasonTable is 累计: one row per unit of the season in the order of the
// season table, one column per round (that round's final score), the
// combined score, the rank, the group rank and the movement since the
// table before the latest round. Empty cells: a missed round, a unit
// without any final.
func SeasonTable(s *voting.Season) Table {
	grouped := false
	for _, row := range s.Rows {
		grouped = grouped || row.Group != ""
	}
	cols := []Column{{Title: "名次", Width: 7}}
	if grouped {
		cols = append(cols, Column{Title: "组内名次", Width: 9})
	}
	cols = append(cols, Column{Title: "参赛单位", Width: 28})
	if grouped {
		cols = append(cols, Column{Title: "分组", Width: 16})
	}
	for _, rd := range s.Rounds {
		cols = append(cols, Column{Title: rd.Name, Width: 11, Decimals: s.Decimals})
	}
	cols = append(cols,
		Column{Title: CombinedTitle(s.Rule), Width: 12, Decimals: s.Decimals},
		Column{Title: "参赛轮数", Width: 9},
		Column{Title: "名次变化", Width: 9},
	)
	t := Table{Name: "累计", Slug: TableSeason, Columns: cols}
	for _, row := range s.Rows {
		cells := []any{rankCell(row.Rank)}
		if grouped {
			cells = append(cells, rankCell(row.GroupRank))
		}
		cells = append(cells, row.Name)
		if grouped {
			cells = append(cells, nilIfEmpty(row.Group))
		}
		for _, f := range row.Finals {
			if f.Played {
				cells = append(cells, f.Final)
			} else {
				cells = append(cells, nil)
			}
		}
		var combined any
		if row.Rank > 0 {
			combined = row.Combined
		}
		cells = append(cells, combined, row.Played, nilIfEmpty(MoveText(s, &row)))
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// CombinedTitle names the combined score by the rule: 平均分, 总分 or 加权得分.
func CombinedTitle(rule voting.SeasonRule) string {
	switch rule {
	case voting.RuleSum:
		return "累计总分"
	case voting.RuleWeighted:
		return "加权得分"
	}
	return "累计平均分"
}

// MoveText is a row's movement since the table before the latest round:
// ↑2, ↓1, – (unchanged), 新 (not ranked before), or "" (one round only,
// or not ranked now).
func MoveText(s *voting.Season, row *voting.SeasonRow) string {
	switch {
	case len(s.Rounds) < 2 || row.Rank == 0:
		return ""
	case row.PrevRank == 0:
		return "新"
	case row.Move > 0:
		return "↑" + strconv.Itoa(row.Move)
	case row.Move < 0:
		return "↓" + strconv.Itoa(-row.Move)
	}
	return "–"
}

// SeasonRules says in words how the season table is made.
func SeasonRules(s *voting.Season) []Rule {
	names := make([]string, len(s.Rounds))
	for i, rd := range s.Rounds {
		names[i] = fmt.Sprintf("%s %s（%s）", rd.Name, rd.Title, rd.Event)
	}
	var how string
	switch s.Rule {
	case voting.RuleSum:
		how = "各轮最终得分之和"
	case voting.RuleWeighted:
		ws := make([]string, len(s.Rounds))
		for i, rd := range s.Rounds {
			ws[i] = rd.Name + " " + num(rd.Weight)
		}
		how = "各轮最终得分的加权平均（权重：" + strings.Join(ws, "，") + "）"
	default:
		how = "各轮最终得分的平均分"
	}
	missed := "未参赛或未获评分的轮次不计入（按参加的轮次计算）"
	if s.Missed == voting.MissedZero {
		missed = "未参赛或未获评分的轮次按 0 分计"
	}
	return []Rule{
		{Item: "赛季", Text: s.Name + "（" + s.Series + "）"},
		{Item: "计入的轮次", Text: strings.Join(names, "；")},
		{Item: "累计得分", Text: how + "，四舍五入保留 " + strconv.Itoa(s.Decimals) + " 位小数"},
		{Item: "缺赛", Text: missed},
		{Item: "名次", Text: "按累计得分从高到低；得分相同（按显示的小数位）名次并列，下一名次顺延（1、2、2、4）；分组另排组内名次"},
		{Item: "名次变化", Text: "与上一轮结束时的累计排名相比：↑ 上升、↓ 下降、– 不变、新 首次进入排名"},
	}
}

// WriteSeasonXLSX writes a series' season table as a workbook: the sheet
// 累计 and the sheet 规则 with the season's rule in words.
func WriteSeasonXLSX(w io.Writer, s *voting.Season, now time.Time) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return fmt.Errorf("report: workbook styles: %w", err)
	}
	if err := writeSeasonSheet(f, st, s, true); err != nil {
		return fmt.Errorf("report: sheet 累计: %w", err)
	}
	rules := Table{Name: "规则", Slug: TableRules, Columns: []Column{{Title: "项目", Width: 16}, {Title: "说明", Width: 90, Wrap: true}}}
	for _, ru := range SeasonRules(s) {
		rules.Rows = append(rules.Rows, []any{ru.Item, ru.Text})
	}
	if err := writeRules(f, st, rules); err != nil {
		return fmt.Errorf("report: sheet 规则: %w", err)
	}
	f.SetActiveSheet(0)
	created := now.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: s.Name + " 年度累计排名", Subject: "年度累计排名", Creator: "leitai 擂台", Created: created, Modified: created, Language: "zh-CN",
	}); err != nil {
		return fmt.Errorf("report: workbook properties: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("report: write the workbook: %w", err)
	}
	return nil
}

// writeSeasonSheet writes 累计: the header in row 1 (kept in view), one
// row per unit. first renames the workbook's first sheet to it.
func writeSeasonSheet(f *excelize.File, st *styles, s *voting.Season, first bool) error {
	t := SeasonTable(s)
	if first {
		if err := f.SetSheetName("Sheet1", t.Name); err != nil {
			return err
		}
	} else if _, err := f.NewSheet(t.Name); err != nil {
		return err
	}
	if err := writeTable(f, st, t.Name, t, 1); err != nil {
		return err
	}
	if err := f.SetPanes(t.Name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return printA4(f, t.Name, "landscape")
}
