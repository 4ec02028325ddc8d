package main

import (
	"os"
	"strings"
	"testing"
)

// gongshuThemes are the units' headlines (汇报主题) in the customer's
// write-up of the day (shared/seed), in stage order.
var gongshuThemes = [][2]string{
	{"区发改经信局", "扬优势 补短板 推进各项经济指标争先创优"},
	{"区商务局", "促消费稳外贸 推动商贸经济稳步增长"},
	{"区住建局", "狠抓四个坚持全力 推进建筑业房地产发展"},
	{"区财政局", "咬定目标 迎难而上 为两战全胜作好保障"},
	{"区投促局", "咬定目标 实干争先 全力打好四上企业及外资招引攻坚战"},
	{"上塘街道", "全力攻坚 为拱墅经济高质量发展贡献上塘力量"},
	{"祥符街道", "善谋善为善作善成 全力打好“战疫情促发展”攻坚硬仗"},
	{"康桥街道", "穷尽一切办法 困境中找出路"},
	{"半山街道", "突出四个抓 全力精准攻 努力为全区争先进位促发展作出贡献"},
	{"米市巷街道", "不遗余力促增收"},
	{"湖墅街道", "奋力夺取疫情防控和经济发展“双胜利”"},
	{"小河街道", "唯实补短 数字赋能 以更精准的服务推动区域经济发展"},
	{"拱宸桥街道", "提高站位抓攻坚 赋能增效促发展"},
	{"和睦街道", "紧盯目标 精准攻坚 奋力推进指标任务提前突破"},
	{"大关街道", "优存量 挖增量 控变量 统筹推进“战疫情促发展”两场战役"},
	{"区科技园区管委会", "克难攻坚挑重担 真抓实干勇担当 以现代化管理服务促经济平稳向好运行"},
}

// TestExampleEventThemes: the example event carries every unit's theme as
// the customer's document gives it, names and order unchanged, and a
// presentation time.
func TestExampleEventThemes(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../examples/gongshu-2020.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseEventFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Contestants) != len(gongshuThemes) {
		t.Fatalf("%d contestants, want %d", len(ev.Contestants), len(gongshuThemes))
	}
	for i, c := range ev.Contestants {
		if c.Name != gongshuThemes[i][0] || c.Theme != gongshuThemes[i][1] {
			t.Errorf("contestant %d: %q with theme %q; want %q with %q", i+1, c.Name, c.Theme, gongshuThemes[i][0], gongshuThemes[i][1])
		}
		if c.Comment != "" {
			t.Errorf("contestant %d has a comment in the file: the host records it on the day", i+1)
		}
	}
	if ev.PresentationSeconds != 300 {
		t.Errorf("presentation time %d s, want 300", ev.PresentationSeconds)
	}
}

func TestParseEventFilePresentation(t *testing.T) {
	t.Parallel()
	const head = "id: a\ntitle: t\n"
	for _, tc := range []struct {
		name, yaml string
		seconds    int
		want       string // an error mentioning this, or "" for none
	}{
		{"no time", head, 0, ""},
		{"minutes", head + "presentation_time: 8m\n", 480, ""},
		{"minutes and seconds", head + "presentation_time: 5m30s\n", 330, ""},
		{"seconds as a number", head + "presentation_time: 90\n", 90, ""},
		{"seconds as a duration", head + "presentation_time: 2s\n", 2, ""},
		{"zero", head + "presentation_time: 0\n", 0, ""},
		{"empty", head + "presentation_time:\n", 0, ""},
		{"a fraction of a second", head + "presentation_time: 1.5s\n", 0, "whole seconds"},
		{"not a duration", head + "presentation_time: five minutes\n", 0, "whole seconds"},
		{"a list", head + "presentation_time: [5m]\n", 0, "duration"},
		{"negative", head + "presentation_time: -1m\n", 0, "presentation time"},
		{"longer than a day", head + "presentation_time: 25h\n", 0, "presentation time"},
		{"misspelt", head + "presentation: 5m\n", 0, "presentation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEventFile([]byte(tc.yaml))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
				}
				return
			}
			if err != nil || ev.PresentationSeconds != tc.seconds {
				t.Fatalf("presentation %d s, %v; want %d s", ev.PresentationSeconds, err, tc.seconds)
			}
		})
	}
}

func TestParseEventFileThemeAndPresenter(t *testing.T) {
	t.Parallel()
	ev, err := ParseEventFile([]byte(`id: a
title: t
contestants:
  - name: 区商务局
    theme: "  促消费稳外贸 推动商贸经济稳步增长 "
    presenter: 李四
  - name: 祥符街道
`))
	if err != nil {
		t.Fatal(err)
	}
	if c := ev.Contestants[0]; c.Theme != "促消费稳外贸 推动商贸经济稳步增长" || c.Presenter != "李四" {
		t.Errorf("first contestant %+v", c)
	}
	if c := ev.Contestants[1]; c.Theme != "" || c.Presenter != "" {
		t.Errorf("second contestant %+v", c)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"theme with a line break", "id: a\ntitle: t\ncontestants: [{name: 甲, theme: \"一\\n二\"}]\n", "theme"},
		{"long presenter", "id: a\ntitle: t\ncontestants: [{name: 甲, presenter: " + strings.Repeat("x", 101) + "}]\n", "presenter"},
		{"comment in the file", "id: a\ntitle: t\ncontestants: [{name: 甲, comment: 好}]\n", "comment"},
	} {
		if _, err := ParseEventFile([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}
