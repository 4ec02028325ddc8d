package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"leitai/voting"
)

type lang int

const (
	zh lang = iota
	en
)

// pick chooses the Chinese or the English text.
func (l lang) pick(zhText, enText string) string {
	if l == en {
		return enText
	}
	return zhText
}

// num writes a number as short as it goes: 60, 0.5, 87.25.
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

const timeLayout = "2006-01-02 15:04"

// rules writes the rules of ev, and the facts of the report, in words: the
// formula of docs/scoring.md as a host would explain it to the audience.
func rules(ev *voting.Event, r *Report, l lang) []Rule {
	var out []Rule
	add := func(item, text string) { out = append(out, Rule{Item: item, Text: text}) }
	loc := r.Location()
	ru := ev.Rules

	add(l.pick("活动", "Event"), fmt.Sprintf("%s（%s）", ev.Title, ev.ID))
	if r.Final {
		add(l.pick("状态", "Status"), l.pick("已结束，结果为最终结果", "ended; these are the final results"))
		add(l.pick("结束时间", "Closed at"), stamp(r.ClosedAt, loc))
	} else {
		add(l.pick("状态", "Status"), l.pick("进行中，结果为临时结果，可能还会变化", "in progress; these results are provisional and may still change"))
	}
	add(l.pick("制表时间", "Generated at"), stamp(r.GeneratedAt, loc))
	add(l.pick("参赛单位", "Contestants"), l.pick(
		fmt.Sprintf("%d 个", len(ev.Contestants)),
		fmt.Sprintf("%d", len(ev.Contestants))))
	if len(r.Groups) > 0 {
		add(l.pick("分组", "Groups"), l.pick(
			strings.Join(r.Groups, "、")+"；除总排名外，各组另排组内名次",
			strings.Join(r.Groups, ", ")+"; each group is also ranked on its own"))
	}
	add(l.pick("有效票", "Ballots"), l.pick(
		fmt.Sprintf("共 %d 张，来自 %d 位投票人", r.Ballots, r.Voters),
		fmt.Sprintf("%d live ballots from %d voters", r.Ballots, r.Voters)))

	add(l.pick("评分范围", "Score range"), l.pick(
		fmt.Sprintf("%s 至 %s 分，步长 %s 分", num(ru.Min), num(ru.Max), num(ru.Step)),
		fmt.Sprintf("%s to %s in steps of %s", num(ru.Min), num(ru.Max), num(ru.Step))))
	if len(ru.Criteria) > 0 {
		var parts []string
		for _, c := range ru.Criteria {
			parts = append(parts, l.pick(fmt.Sprintf("%s（权重 %s）", c.Name, num(c.Weight)), fmt.Sprintf("%s (weight %s)", c.Name, num(c.Weight))))
		}
		add(l.pick("评分项", "Criteria"), l.pick(
			strings.Join(parts, "、")+"；每张选票的得分是各评分项得分按权重的加权平均",
			strings.Join(parts, ", ")+"; a ballot's score is the weighted mean of its criteria's scores"))
	}
	var panels []string
	for _, p := range r.Panels {
		panels = append(panels, l.pick(fmt.Sprintf("%s（权重 %s%%）", p.Name, num(p.Share)), fmt.Sprintf("%s (weight %s%%)", p.Name, num(p.Share))))
	}
	add(l.pick("评审组", "Panels"), strings.Join(panels, l.pick("、", ", ")))
	add(l.pick("有效票的规则", "One ballot each"), l.pick(
		"每位投票人对每个参赛单位（在自己的评审组内）只有一张有效票；投票开放期间可以修改，以最后一次为准",
		"each voter has one live ballot per contestant (in their panel); a later ballot replaces it while voting is open"))

	return append(out, scoringRules(ev, r, l)...)
}

// scoringRules says how scores become finals and places.
func scoringRules(ev *voting.Event, r *Report, l lang) []Rule {
	var out []Rule
	add := func(item, text string) { out = append(out, Rule{Item: item, Text: text}) }
	ru := ev.Rules
	if uniformScoring(ev) {
		if ru.Trim > 0 {
			add(l.pick("去掉最高分和最低分", "Trimming"), trimText(ru.Trim, l))
		} else {
			add(l.pick("评审组平均分", "Panel average"), l.pick(
				"各评审组的平均分是其全部有效票的平均，不去掉最高分和最低分",
				"a panel's average is the mean of all its ballots; none are dropped"))
		}
	} else {
		for i, p := range ev.Panels {
			add(l.pick(p.Name+"计分方式", "Scoring of "+p.Name), modeText(ev.PanelRule(i), l))
		}
	}
	if seats := seatText(ev, l); seats != "" {
		add(l.pick("评委席", "Judges' seats"), seats)
	}
	add(l.pick("最终得分", "Final score"), finalFormula(r, l))
	add(l.pick("小数位数", "Rounding"), l.pick(
		fmt.Sprintf("最终得分四舍五入保留 %d 位小数；表中各评审组平均分四舍五入保留 %d 位小数，最终得分由未舍入的平均分算出；去掉的最高分、最低分和每张选票的得分都是原始分数，不舍入", r.Decimals, r.AverageDecimals),
		fmt.Sprintf("final scores are rounded half up to %d decimals; the panel averages shown are rounded half up to %d decimals, and the final score is computed from the unrounded averages; dropped scores and ballot scores are shown exactly as cast", r.Decimals, r.AverageDecimals)))
	if len(ru.TieBreaks) == 0 {
		add(l.pick("名次", "Ranking"), l.pick(
			fmt.Sprintf("按最终得分从高到低排名；保留 %d 位小数后得分相同的名次相同（如 1、2、2、4）；没有选票的参赛单位不排名", ru.Decimals),
			fmt.Sprintf("by final score, highest first; equal scores at %d decimals share a place (1, 2, 2, 4); contestants without ballots are not ranked", ru.Decimals)))
	} else {
		add(l.pick("名次", "Ranking"), l.pick(
			fmt.Sprintf("按最终得分从高到低排名；保留 %d 位小数后得分相同的，按下列同分比较规则依次比较；仍然相同的名次相同（如 1、2、2、4）；没有选票的参赛单位不排名", ru.Decimals),
			fmt.Sprintf("by final score, highest first; equal scores at %d decimals are compared by the tie-breaks below, in order; those still equal share a place (1, 2, 2, 4); contestants without ballots are not ranked", ru.Decimals)))
		add(l.pick("同分比较", "Tie-breaks"), tieBreakText(ev, l))
	}
	if ev.VotingScope == voting.ScopeAll {
		add(l.pick("投票方式", "Voting"), l.pick("所有参赛单位同时开放投票", "all contestants were open for voting at once"))
	} else {
		add(l.pick("投票方式", "Voting"), l.pick("只为台上正在展示的参赛单位投票", "only the contestant on stage takes ballots"))
	}
	add(l.pick("投票人编号", "Voter codes"), l.pick(
		"明细表中的投票人是匿名编号，同一人在本活动中编号相同，但无法由编号还原出投票人",
		"voters in the detail are anonymous codes: the same voter has the same code throughout the event, and no code leads back to a voter"))
	return out
}

// finalFormula writes the weighted mean with the event's panels.
func finalFormula(r *Report, l lang) string {
	round := l.pick(fmt.Sprintf("四舍五入保留 %d 位小数", r.Decimals), fmt.Sprintf("rounded half up to %d decimals", r.Decimals))
	if len(r.Panels) == 1 {
		return l.pick(
			fmt.Sprintf("最终得分 = %s平均分，%s", r.Panels[0].Name, round),
			fmt.Sprintf("final score = the %s average, %s", r.Panels[0].Name, round))
	}
	var terms, ws []string
	for _, p := range r.Panels {
		terms = append(terms, l.pick(fmt.Sprintf("%s平均分 × %s", p.Name, num(p.Weight)), fmt.Sprintf("%s average × %s", p.Name, num(p.Weight))))
		ws = append(ws, num(p.Weight))
	}
	return l.pick(
		fmt.Sprintf("最终得分 =（%s）÷（%s），%s；某评审组没有选票时，该组及其权重都不计入",
			strings.Join(terms, " + "), strings.Join(ws, " + "), round),
		fmt.Sprintf("final score = (%s) ÷ (%s), %s; a panel without ballots is left out together with its weight",
			strings.Join(terms, " + "), strings.Join(ws, " + "), round))
}

// stamp writes a time for the reader, with its offset from UTC:
// "2020-05-01 16:30 (UTC+08:00)".
func stamp(ms int64, loc *time.Location) string {
	t := time.UnixMilli(ms).In(loc)
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s (UTC%s%02d:%02d)", t.Format(timeLayout), sign, off/3600, off%3600/60)
}

// uniformScoring reports whether every panel scores by the rules' trim (the
// trimmed mode without a trim of its own), so one sentence says it.
func uniformScoring(ev *voting.Event) bool {
	for i := range ev.Panels {
		if ev.PanelRule(i) != (voting.PanelRule{Trim: ev.Rules.Trim}) {
			return false
		}
	}
	return true
}

func trimText(n int, l lang) string {
	return l.pick(
		fmt.Sprintf("某评审组给一个参赛单位的票多于 %d 张时，去掉 %d 个最高分和 %d 个最低分，其余的取平均；不多于 %d 张时全部取平均", 2*n, n, n, 2*n),
		fmt.Sprintf("when a panel has more than %d ballots for a contestant, the %d highest and %d lowest are dropped and the rest averaged; otherwise all are averaged", 2*n, n, n))
}

// modeText says one panel's scoring mode in words.
func modeText(rule voting.PanelRule, l lang) string {
	switch {
	case rule.Sum:
		return l.pick("总分：该组全部有效票的得分相加；未评分的评委不计入", "sum: the scores of all the panel's ballots added up; a judge who did not score is not counted")
	case rule.Trim > 0:
		return trimText(rule.Trim, l)
	}
	return l.pick("平均分：该组全部有效票的平均，不去掉最高分和最低分；未评分的评委不计入", "average: the mean of all the panel's ballots, none dropped; a judge who did not score is not counted")
}

// seatText names the seats of the panels that have them.
func seatText(ev *voting.Event, l lang) string {
	var parts []string
	for _, p := range ev.Panels {
		if len(p.Seats) > 0 {
			parts = append(parts, l.pick(
				fmt.Sprintf("%s：%s（每个评委席一张评分凭证，只计该席位的最后一次评分）", p.Name, strings.Join(p.Seats, "、")),
				fmt.Sprintf("%s: %s (one ticket per seat; the seat's latest score counts)", p.Name, strings.Join(p.Seats, ", "))))
		}
	}
	return strings.Join(parts, l.pick("；", "; "))
}

// tieBreakText writes the event's tie-breaks in words, numbered in order.
func tieBreakText(ev *voting.Event, l lang) string {
	var parts []string
	for i, tb := range ev.Rules.TieBreaks {
		kind, panel := tb.Split()
		name := panel
		if p, ok := ev.Panel(panel); ok {
			name = p.Name
		}
		var text string
		switch {
		case kind == voting.TieUnrounded:
			text = l.pick("比较未四舍五入的最终得分，高者列前", "the final score before rounding, higher first")
		case kind == voting.TiePanel:
			text = l.pick(fmt.Sprintf("比较%s得分，高者列前（该组没有选票的列后）", name), fmt.Sprintf("the %s result, higher first (none places last)", name))
		case kind == voting.TieTop && panel == "":
			text = l.pick(fmt.Sprintf("比较满分（%s 分）票数，多者列前", num(ev.Rules.Max)), fmt.Sprintf("the number of top scores (%s), more first", num(ev.Rules.Max)))
		default:
			text = l.pick(fmt.Sprintf("比较%s满分（%s 分）票数，多者列前", name, num(ev.Rules.Max)), fmt.Sprintf("the number of top scores (%s) in %s, more first", num(ev.Rules.Max), name))
		}
		parts = append(parts, fmt.Sprintf("(%d) %s", i+1, text))
	}
	return strings.Join(parts, l.pick("；", "; "))
}
