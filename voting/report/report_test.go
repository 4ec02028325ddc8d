package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"leitai/voting"
	"leitai/voting/votingtest"
)

var shanghai = time.FixedZone("CST", 8*3600)

// testEvent is votingtest's small event (two groups, two panels 60/40,
// trimming one at each end) with the example's names and a fifth unit,
// named like a spreadsheet formula, that gets no ballots.
func testEvent() *voting.Event {
	ev := votingtest.Event("gongshu-2020", votingtest.Title("拱墅区“战疫情促发展”大比武擂台赛"), votingtest.Contestants(
		voting.Contestant{ID: "c1", Name: "区发改经信局", Group: votingtest.GroupLead},
		voting.Contestant{ID: "c2", Name: "区住建局", Group: votingtest.GroupLead},
		voting.Contestant{ID: "c3", Name: "米市巷街道", Group: votingtest.GroupStreet},
		voting.Contestant{ID: "c4", Name: "湖墅街道", Group: votingtest.GroupStreet},
		voting.Contestant{ID: "c5", Name: "=没有人投票", Group: votingtest.GroupStreet},
	))
	return &ev
}

// cast makes a counted ballot as a store would keep it.
func cast(t *testing.T, ev *voting.Event, voter, contestant, panel string, score float64, at int64) voting.CountedBallot {
	t.Helper()
	return votingtest.MustCount(t, ev, votingtest.Ballot(ev, voter, contestant, panel, score), at)
}

// fixture: c4 leads, c1 and c3 tie; c2 has only judges; c5 has no ballots.
func fixture(t *testing.T) (*voting.Event, []voting.CountedBallot) {
	ev := testEvent()
	at := time.Date(2020, 5, 1, 14, 0, 0, 0, shanghai).UnixMilli()
	var bs []voting.CountedBallot
	add := func(voter, c, p string, s float64) {
		at += 1000
		bs = append(bs, cast(t, ev, voter, c, p, s, at))
	}
	// c1 audience: 60 70 80 90 95 → drop 95 and 60 → 80. judges: 90, 90 → 90 (2 ≤ 2×1, nothing dropped).
	for i, s := range []float64{90, 60, 80, 95, 70} {
		add(fmt.Sprintf("v%d", i), "c1", "audience", s)
	}
	add("j1", "c1", "judges", 90)
	add("j2", "c1", "judges", 90)
	// c3: audience 80 80 80 → drop one 80 each end → 80; judges 90 → final 84 like c1 (0.6×80+0.4×90).
	for i := range 3 {
		add(fmt.Sprintf("v%d", i), "c3", "audience", 80)
	}
	add("j1", "c3", "judges", 90)
	// c2: judges only, 3 ballots → drop 99 and 61 → 75.5.
	add("j1", "c2", "judges", 61)
	add("j2", "c2", "judges", 75.5)
	add("j3", "c2", "judges", 99)
	// c4: audience 100 → 100.
	add("v9", "c4", "audience", 100)
	return ev, bs
}

func endedStage() voting.Stage {
	return voting.Stage{Phase: voting.PhaseEnded, Version: 40, ChangedAt: time.Date(2020, 5, 1, 16, 30, 0, 0, shanghai).UnixMilli()}
}

func TestTrimmed(t *testing.T) {
	t.Parallel()
	u := func(ps ...float64) []int64 {
		var out []int64
		for _, p := range ps {
			out = append(out, int64(math.Round(p*voting.ScoreUnits)))
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name          string
		scores        []float64
		trim          int
		highest, lows []float64
	}{
		{"no trim", []float64{1, 2, 3}, 0, nil, nil},
		{"too few", []float64{1, 2}, 1, nil, nil},
		{"exactly 2n+1", []float64{3, 1, 2}, 1, []float64{3}, []float64{1}},
		{"ties at the ends", []float64{80, 80, 90, 90}, 1, []float64{90}, []float64{80}},
		{"trim 2", []float64{5, 9, 1, 7, 3, 8}, 2, []float64{9, 8}, []float64{1, 3}},
		{"trim 2, 4 ballots", []float64{5, 9, 1, 7}, 2, nil, nil},
		{"decimals", []float64{88.5, 60.25, 99.75}, 1, []float64{99.75}, []float64{60.25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hi, lo := Trimmed(u(tc.scores...), tc.trim)
			if !slices.Equal(hi, tc.highest) || !slices.Equal(lo, tc.lows) {
				t.Errorf("Trimmed(%v, %d) = %v, %v; want %v, %v", tc.scores, tc.trim, hi, lo, tc.highest, tc.lows)
			}
			// What is dropped is exactly what PanelAverage leaves out.
			ps := voting.PanelAverage("p", u(tc.scores...), tc.trim)
			if ps.Dropped != len(hi)+len(lo) {
				t.Errorf("PanelAverage dropped %d, Trimmed %d", ps.Dropped, len(hi)+len(lo))
			}
		})
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	ev, bs := fixture(t)
	now := time.Date(2020, 5, 1, 17, 0, 0, 0, shanghai)
	r := Build(ev, endedStage(), bs, now, shanghai)
	if !r.Final || r.ClosedAt != endedStage().ChangedAt || r.GeneratedAt != now.UnixMilli() {
		t.Errorf("final %v, closedAt %d, generatedAt %d", r.Final, r.ClosedAt, r.GeneratedAt)
	}
	if r.Ballots != len(bs) || r.Voters != 9 || r.Contestants != 5 {
		t.Errorf("ballots %d voters %d contestants %d", r.Ballots, r.Voters, r.Contestants)
	}
	if r.Panels[0].Share != 60 || r.Panels[1].Share != 40 {
		t.Errorf("shares %+v", r.Panels)
	}
	type want struct {
		rank, groupRank int
		final           float64
		hi, lo          [2][]float64 // per panel
		avg             [2]float64
	}
	// c4 (100) is first, then c1 and c3 tie at 84 → ranks 1, 2, 2, 4.
	wants := map[string]want{
		"c4": {1, 1, 100, [2][]float64{nil, nil}, [2][]float64{nil, nil}, [2]float64{100, 0}},
		"c1": {2, 1, 84, [2][]float64{{95}, nil}, [2][]float64{{60}, nil}, [2]float64{80, 90}},
		"c3": {2, 2, 84, [2][]float64{{80}, nil}, [2][]float64{{80}, nil}, [2]float64{80, 90}},
		"c2": {4, 2, 75.5, [2][]float64{nil, {99}}, [2][]float64{nil, {61}}, [2]float64{0, 75.5}},
		"c5": {0, 0, 0, [2][]float64{nil, nil}, [2][]float64{nil, nil}, [2]float64{0, 0}},
	}
	var order []string
	for _, row := range r.Rows {
		order = append(order, row.Contestant)
		w := wants[row.Contestant]
		if row.Rank != w.rank || row.GroupRank != w.groupRank || row.Final != w.final {
			t.Errorf("%s: rank %d group %d final %v; want %d %d %v", row.Contestant, row.Rank, row.GroupRank, row.Final, w.rank, w.groupRank, w.final)
		}
		for i, pr := range row.Panels {
			if !slices.Equal(pr.Highest, w.hi[i]) || !slices.Equal(pr.Lowest, w.lo[i]) || pr.Average != w.avg[i] {
				t.Errorf("%s/%s: highest %v lowest %v average %v; want %v %v %v", row.Contestant, pr.Panel, pr.Highest, pr.Lowest, pr.Average, w.hi[i], w.lo[i], w.avg[i])
			}
		}
	}
	if want := []string{"c4", "c1", "c3", "c2", "c5"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if n := r.Rows[0].Order; n != 4 {
		t.Errorf("c4 runs %d-th, want 4", n)
	}
	// The detail names voters only by hash.
	if len(r.Detail) != len(bs) {
		t.Fatalf("%d detail rows, want %d", len(r.Detail), len(bs))
	}
	for _, d := range r.Detail {
		if len(d.Voter) != 12 || strings.HasPrefix(d.Voter, "v") || strings.HasPrefix(d.Voter, "j") {
			t.Errorf("voter %q is not a hash", d.Voter)
		}
	}
	if r.Detail[0].Contestant != "c1" || r.Detail[len(r.Detail)-1].Contestant != "c4" {
		t.Errorf("detail not in running order: first %s last %s", r.Detail[0].Contestant, r.Detail[len(r.Detail)-1].Contestant)
	}
	pub := r.Public()
	if pub.Detail != nil || r.Detail == nil {
		t.Error("Public must drop the detail and leave the report alone")
	}
	// Nor the scores trimming dropped: per-ballot detail too.
	for _, row := range pub.Rows {
		for _, pr := range row.Panels {
			if pr.Highest != nil || pr.Lowest != nil {
				t.Errorf("public %s/%s shows dropped scores %v %v", row.Contestant, pr.Panel, pr.Highest, pr.Lowest)
			}
		}
	}
	if r.Rows[1].Panels[0].Highest == nil {
		t.Error("Public changed the report it copied")
	}
}

func TestBuildProvisional(t *testing.T) {
	t.Parallel()
	ev, bs := fixture(t)
	r := Build(ev, voting.Stage{Phase: voting.PhaseVoting, Current: "c2", ChangedAt: 1}, bs, time.Date(2020, 5, 1, 15, 0, 0, 0, shanghai), shanghai)
	if r.Final || r.ClosedAt != 0 {
		t.Errorf("a running event is not final: %v %d", r.Final, r.ClosedAt)
	}
	if !strings.Contains(rulesText(r.Rules), "临时结果") {
		t.Error("the rules must say the results are provisional")
	}
	if name, _ := r.FileName("", "", "xlsx"); !strings.HasSuffix(name, "-2020-05-01.xlsx") {
		t.Errorf("file name %q", name)
	}
}

// TestTallyAgrees checks, with random ballots, that the report's standings
// are voting.Tally's and that each panel's average is the mean of the
// ballots that were not dropped.
func TestTallyAgrees(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 30 {
		ev := testEvent()
		ev.Rules.Trim = iter % 3
		var bs []voting.CountedBallot
		for v := range rng.IntN(20) + 1 {
			for _, c := range ev.Contestants {
				if rng.IntN(4) == 0 {
					continue
				}
				p := ev.Panels[rng.IntN(2)].ID
				s := 60 + float64(rng.IntN(81))*0.5
				bs = append(bs, cast(t, ev, fmt.Sprintf("voter-%d", v), c.ID, p, s, int64(v)))
			}
		}
		r := Build(ev, endedStage(), bs, time.Now(), nil)
		sd := voting.Tally(ev, bs)
		for i, row := range r.Rows {
			s := sd.Rows[i]
			if row.Contestant != s.Contestant || row.Rank != s.Rank || row.GroupRank != s.GroupRank || row.Final != s.Final || row.Ballots != s.Ballots {
				t.Fatalf("row %d: %+v, standings %+v", i, row, s)
			}
			for j, pr := range row.Panels {
				var scores []float64
				for _, d := range r.Detail {
					if d.Contestant == row.Contestant && d.Panel == pr.Panel {
						scores = append(scores, d.Score)
					}
				}
				kept := slices.Clone(scores)
				for _, x := range append(slices.Clone(pr.Highest), pr.Lowest...) {
					k := slices.Index(kept, x)
					if k < 0 {
						t.Fatalf("%s/%s: dropped %v is not a ballot of %v", row.Contestant, pr.Panel, x, scores)
					}
					kept = slices.Delete(kept, k, k+1)
				}
				// The report's average is the standings' rounded half up.
				if pr.Count != len(scores) || pr.Dropped != len(pr.Highest)+len(pr.Lowest) || pr.Average != voting.RoundScore(s.Panels[j].Average, r.AverageDecimals) {
					t.Fatalf("%s/%s: %+v vs %+v", row.Contestant, pr.Panel, pr, s.Panels[j])
				}
				if len(kept) > 0 {
					var sum float64
					for _, x := range kept {
						sum += x
					}
					if math.Abs(sum/float64(len(kept))-pr.Average) > 0.00005+1e-9 {
						t.Fatalf("%s/%s: kept %v average %v, report %v", row.Contestant, pr.Panel, kept, sum/float64(len(kept)), pr.Average)
					}
				}
			}
		}
	}
}

func TestVoterHash(t *testing.T) {
	t.Parallel()
	a := VoterHash("e1", "8f6b2c1d-0000-4000-8000-000000000001")
	if a != VoterHash("e1", "8f6b2c1d-0000-4000-8000-000000000001") || len(a) != 12 {
		t.Errorf("hash %q not stable or not 12 digits", a)
	}
	if a == VoterHash("e2", "8f6b2c1d-0000-4000-8000-000000000001") {
		t.Error("the same voter must get another code in another event")
	}
	if strings.Contains(a, "8f6b") {
		t.Error("the code shows the voter id")
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	ev, bs := fixture(t)
	r := Build(ev, endedStage(), bs, time.Now(), shanghai)
	zh := rulesText(r.Rules)
	for _, s := range []string{
		"60 至 100 分，步长 0.5 分", "大众评审（权重 60%）", "专家评委（权重 40%）",
		"去掉 1 个最高分和 1 个最低分", "（大众评审平均分 × 60 + 专家评委平均分 × 40）÷（60 + 40）",
		"保留 2 位小数", "1、2、2、4", "2020-05-01 16:30 (UTC+08:00)", "专项组牵头单位、街道和园区",
		"共 15 张，来自 9 位投票人",
	} {
		if !strings.Contains(zh, s) {
			t.Errorf("the rules do not say %q:\n%s", s, zh)
		}
	}
	if en := rulesText(r.RulesEn); !strings.Contains(en, "the 1 highest and 1 lowest are dropped") {
		t.Errorf("English rules:\n%s", en)
	}
}

func rulesText(rs []Rule) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Item + "：" + r.Text + "\n")
	}
	return b.String()
}

func TestFileName(t *testing.T) {
	t.Parallel()
	ev, bs := fixture(t)
	ev.Title = `战疫情/促发展: "擂台"?`
	r := Build(ev, endedStage(), bs, time.Now(), shanghai)
	name, ascii := r.FileName("", "", "xlsx")
	if name != "战疫情促发展 擂台-2020-05-01.xlsx" || ascii != "gongshu-2020-2020-05-01.xlsx" {
		t.Errorf("names %q %q", name, ascii)
	}
	name, ascii = r.FileName("排名", "ranking", "csv")
	if name != "战疫情促发展 擂台-排名-2020-05-01.csv" || ascii != "gongshu-2020-ranking-2020-05-01.csv" {
		t.Errorf("names %q %q", name, ascii)
	}
}

// TestCSVRoundTrip writes every table, reads it back with encoding/csv and
// checks the text and the numbers.
func TestCSVRoundTrip(t *testing.T) {
	t.Parallel()
	ev, bs := fixture(t)
	r := Build(ev, endedStage(), bs, time.Now(), shanghai)
	sd := voting.Tally(ev, bs)
	for _, tab := range r.Tables() {
		var buf bytes.Buffer
		if err := tab.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		if !bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
			t.Fatalf("%s: no byte-order mark", tab.Slug)
		}
		recs, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", tab.Slug, err)
		}
		if len(recs) != len(tab.Rows)+1 {
			t.Fatalf("%s: %d records, want %d", tab.Slug, len(recs), len(tab.Rows)+1)
		}
		for i, c := range tab.Columns {
			if recs[0][i] != c.Title {
				t.Errorf("%s: header %q, want %q", tab.Slug, recs[0][i], c.Title)
			}
		}
		switch tab.Slug {
		case TableRanking:
			want := []string{"名次", "组内名次", "参赛单位", "分组", "出场顺序", "最终得分", "有效票数",
				"大众评审平均分", "大众评审票数", "大众评审去掉的最高分", "大众评审去掉的最低分",
				"专家评委平均分", "专家评委票数", "专家评委去掉的最高分", "专家评委去掉的最低分"}
			if !slices.Equal(recs[0], want) {
				t.Errorf("ranking header %q", recs[0])
			}
			for i, s := range sd.Rows {
				rec := recs[i+1]
				c, _, _ := ev.Contestant(s.Contestant)
				if rec[2] != c.Name && rec[2] != "'"+c.Name {
					t.Errorf("row %d: name %q, want %q", i, rec[2], c.Name)
				}
				if rec[3] != c.Group {
					t.Errorf("row %d: group %q, want %q", i, rec[3], c.Group)
				}
				checkInt(t, rec[0], s.Rank)
				checkInt(t, rec[1], s.GroupRank)
				checkInt(t, rec[6], s.Ballots)
				if s.Ballots > 0 {
					if got, err := strconv.ParseFloat(rec[5], 64); err != nil || got != s.Final || rec[5] != strconv.FormatFloat(s.Final, 'f', 2, 64) {
						t.Errorf("row %d: final %q, want %v", i, rec[5], s.Final)
					}
				}
				for j, ps := range s.Panels {
					checkInt(t, rec[8+4*j], ps.Count)
					if ps.Count == 0 {
						continue
					}
					got, err := strconv.ParseFloat(rec[7+4*j], 64)
					if err != nil || math.Abs(got-ps.Average) > 0.00005 {
						t.Errorf("row %d panel %d: average %q, want %v", i, j, rec[7+4*j], ps.Average)
					}
				}
			}
			// CSV injection: a name that starts with = is defused.
			if last := recs[len(recs)-1]; last[2] != "'=没有人投票" {
				t.Errorf("name %q not defused", last[2])
			}
			if first := recs[1]; first[9] != "" || first[2] != "湖墅街道" {
				t.Errorf("first row %q", first)
			}
			if second := recs[2]; second[9] != "95.0" || second[10] != "60.0" {
				t.Errorf("dropped scores %q %q, want 95.0 and 60.0", second[9], second[10])
			}
		case TableBallots:
			if len(recs[1]) != 5 || recs[1][1] != "区发改经信局" || recs[1][2] != "大众评审" || recs[1][4] != "2020-05-01 14:00:01" {
				t.Errorf("first ballot %q", recs[1])
			}
		case TableRules:
			if recs[1][0] != "活动" || !strings.Contains(recs[1][1], "拱墅区“战疫情促发展”大比武擂台赛") {
				t.Errorf("rules start %q", recs[1])
			}
		}
	}
}

func checkInt(t *testing.T, cell string, want int) {
	t.Helper()
	if want == 0 {
		if cell != "" && cell != "0" {
			t.Errorf("cell %q, want empty or 0", cell)
		}
		return
	}
	if got, err := strconv.Atoi(cell); err != nil || got != want {
		t.Errorf("cell %q, want %d", cell, want)
	}
}

// TestXLSXRoundTrip writes the workbook, opens it again with excelize and
// compares its numbers with the standings.
func TestXLSXRoundTrip(t *testing.T) {
	t.Parallel()
	ev, bs := fixture(t)
	r := Build(ev, endedStage(), bs, time.Now(), shanghai)
	var buf bytes.Buffer
	if err := r.WriteXLSX(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkWorkbook(t, f, ev, voting.Tally(ev, bs), len(bs))
}

// checkWorkbook compares an exported workbook with the standings.
func checkWorkbook(t *testing.T, f *excelize.File, ev *voting.Event, sd voting.Standings, ballots int) {
	t.Helper()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"排名", "明细", "规则"}) {
		t.Fatalf("sheets %q", got)
	}
	title, _ := f.GetCellValue("排名", "A1")
	if title != ev.Title {
		t.Errorf("title %q, want %q", title, ev.Title)
	}
	rows, err := f.GetRows("排名", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	header := rows[2]
	col := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("no column %q in %q", name, header)
		}
		return i
	}
	cell := func(row []string, i int) string {
		if i < len(row) {
			return row[i]
		}
		return ""
	}
	num := func(row []string, i int) float64 {
		v, err := strconv.ParseFloat(cell(row, i), 64)
		if err != nil {
			t.Fatalf("cell %d of %q is not a number", i, row)
		}
		return v
	}
	if len(rows) != 3+len(sd.Rows) {
		t.Fatalf("%d rows, want %d", len(rows), 3+len(sd.Rows))
	}
	for i, s := range sd.Rows {
		row := rows[3+i]
		c, _, _ := ev.Contestant(s.Contestant)
		if cell(row, col("参赛单位")) != c.Name {
			t.Errorf("row %d: %q, want %q", i, cell(row, col("参赛单位")), c.Name)
		}
		if s.Ballots == 0 {
			if cell(row, col("名次")) != "" || cell(row, col("最终得分")) != "" {
				t.Errorf("row %d: a contestant without ballots has no rank and no score: %q", i, row)
			}
			continue
		}
		if int(num(row, col("名次"))) != s.Rank || num(row, col("最终得分")) != s.Final || int(num(row, col("有效票数"))) != s.Ballots {
			t.Errorf("row %d: %q, want rank %d final %v ballots %d", i, row, s.Rank, s.Final, s.Ballots)
		}
		if s.Group != "" && int(num(row, col("组内名次"))) != s.GroupRank {
			t.Errorf("row %d: group rank %q, want %d", i, cell(row, col("组内名次")), s.GroupRank)
		}
		for j, ps := range s.Panels {
			p := ev.Panels[j]
			if int(num(row, col(p.Name+"票数"))) != ps.Count {
				t.Errorf("row %d %s: count %q, want %d", i, p.ID, cell(row, col(p.Name+"票数")), ps.Count)
			}
			if ps.Count > 0 && num(row, col(p.Name+"平均分")) != voting.RoundScore(ps.Average, 4) {
				t.Errorf("row %d %s: average %q, want %v", i, p.ID, cell(row, col(p.Name+"平均分")), ps.Average)
			}
		}
		// Numbers are numbers, not text.
		for _, name := range []string{"名次", "最终得分", "有效票数"} {
			ref, _ := excelize.CoordinatesToCellName(col(name)+1, 4+i)
			if typ, _ := f.GetCellType("排名", ref); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
				t.Errorf("%s (%s) is stored as text", name, ref)
			}
		}
	}
	detail, err := f.GetRows("明细")
	if err != nil {
		t.Fatal(err)
	}
	if len(detail) != 1+ballots {
		t.Errorf("明细 has %d rows, want %d", len(detail), 1+ballots)
	}
	rules, err := f.GetRows("规则")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) < 5 || rules[0][0] != "项目" || !strings.Contains(fmt.Sprint(rules), "最终得分") {
		t.Errorf("规则 %q", rules)
	}
	panes, err := f.GetPanes("排名")
	if err != nil || !panes.Freeze || panes.YSplit != 3 {
		t.Errorf("排名 header not frozen: %+v %v", panes, err)
	}
}
